/**
 * Runs a catalog plan against Glue. The runner never throws: every change starts `notExecuted`
 * and becomes `applied` or `failed`, and the first failure stops the run, so the caller always
 * learns exactly what was applied.
 *
 * Safety, in order: breaking changes are refused unless allowed; a saved plan is checked against
 * the live catalog first (any table whose VersionId moved makes the whole plan stale, nothing is
 * sent); each UpdateTable carries the planned VersionId, so a concurrent writer between the check
 * and the call makes Glue answer ConcurrentModificationException instead of overwriting it. One
 * Glue call changes one table atomically, so no table is ever half-updated.
 */
import {
  AlreadyExistsException,
  ConcurrentModificationException,
  CreateDatabaseCommand,
  CreateTableCommand,
  EntityNotFoundException,
  UpdateTableCommand,
} from '@aws-sdk/client-glue';
import { ClicklakeError } from '../errors.js';
import { changeTarget, type CatalogChange, type CatalogPlan } from './changes.js';
import { databaseExists, glueError, readLiveTable, type GlueSender } from './glue-live.js';
import { glueCalls, type GlueCall } from './render.js';

export type ChangeStatus = 'applied' | 'failed' | 'notExecuted';

/** What happened to one change of the plan. */
export interface ChangeResult {
  change: CatalogChange;
  status: ChangeStatus;
  /** Why it failed (status `failed`). */
  error?: { code: string; message: string };
}

/** The outcome of an apply: a result per change, the Glue calls (made, or for a dry run to be made), and the error that stopped it. */
export interface ApplyOutcome {
  results: ChangeResult[];
  calls: GlueCall[];
  error?: ClicklakeError;
}

export interface ApplyOptions {
  /** Apply changes marked breaking (default false: a plan with any is refused before any call). */
  allowBreaking?: boolean;
  /** Check, then return the calls without making them. */
  dryRun?: boolean;
  /**
   * Re-read the live catalog first and refuse the plan if anything it was planned against
   * changed (default true; the CLI always checks saved plans).
   */
  verifyPlan?: boolean;
}

/**
 * Applies a plan. Never throws: inspect `outcome.error` and each result's status.
 *
 * @example
 * const outcome = await applyCatalogPlan(glue, plan, { allowBreaking: false });
 * if (outcome.error) console.error(outcome.error.message, outcome.results.filter((r) => r.status === 'applied'));
 */
export async function applyCatalogPlan(glue: GlueSender, plan: CatalogPlan, options: ApplyOptions = {}): Promise<ApplyOutcome> {
  const results: ChangeResult[] = plan.changes.map((change) => ({ change, status: 'notExecuted' }));
  let calls: GlueCall[] = [];
  try {
    calls = glueCalls(plan);
    const breaking = plan.changes.filter((c) => c.breaking);
    if (breaking.length > 0 && !options.allowBreaking) {
      throw new ClicklakeError(
        'breaking_changes_refused',
        `the plan has ${breaking.length} breaking change(s) (${breaking.map(breakingLabel).join('; ')}): nothing was applied; review them and re-run with --allow-breaking`,
        { breaking: breaking.map(breakingLabel) },
      );
    }
    if (options.verifyPlan ?? true) await verifyPlanIsCurrent(glue, plan);
  } catch (err) {
    return { results, calls, error: asClicklakeError('plan check', err) };
  }
  if (options.dryRun) return { results, calls };

  for (const call of calls) {
    try {
      await send(glue, call);
      for (const i of call.changes) results[i]!.status = 'applied';
    } catch (err) {
      const error = callError(call, err, results);
      for (const i of call.changes) results[i] = { ...results[i]!, status: 'failed', error: { code: error.code, message: error.message } };
      return { results, calls, error };
    }
  }
  return { results, calls };
}

function breakingLabel(change: CatalogChange): string {
  switch (change.type) {
    case 'change_column_type':
      return `${changeTarget(change)}.${change.column} ${change.from} -> ${change.to}`;
    case 'drop_column':
      return `drop ${changeTarget(change)}.${change.column}`;
    case 'rename_column':
      return `rename ${changeTarget(change)}.${change.from} -> ${change.to}`;
    default:
      return `${change.type} ${changeTarget(change)}`;
  }
}

async function send(glue: GlueSender, call: GlueCall): Promise<void> {
  switch (call.operation) {
    case 'CreateDatabase':
      await glue.send(new CreateDatabaseCommand(call.input));
      return;
    case 'CreateTable':
      await glue.send(new CreateTableCommand(call.input));
      return;
    case 'UpdateTable':
      await glue.send(new UpdateTableCommand(call.input));
      return;
  }
}

function callTarget(call: GlueCall): string {
  if (call.operation === 'CreateDatabase') return call.input.DatabaseInput?.Name ?? '';
  return `${call.input.DatabaseName}.${call.input.TableInput?.Name}`;
}

/** The ClicklakeError for a failed call, saying what was already applied. */
function callError(call: GlueCall, err: unknown, results: ChangeResult[]): ClicklakeError {
  const applied = results.filter((r) => r.status === 'applied').map((r) => changeTarget(r.change));
  const done = applied.length > 0 ? `already applied: ${[...new Set(applied)].join(', ')}` : 'nothing was applied';
  const meta = { operation: call.operation, target: callTarget(call), applied: [...new Set(applied)] };
  if (err instanceof ConcurrentModificationException || err instanceof AlreadyExistsException || (err instanceof EntityNotFoundException && call.operation === 'UpdateTable')) {
    const what =
      err instanceof ConcurrentModificationException
        ? `was changed by someone else after the plan was made (Glue: ${err.message})`
        : err instanceof AlreadyExistsException
          ? `was created by someone else after the plan was made`
          : `was deleted after the plan was made`;
    return new ClicklakeError('catalog_changed_concurrently', `${callTarget(call)} ${what}; ${done}: run \`clicklake catalog plan\` again and apply the new plan`, meta, {
      cause: err,
    });
  }
  const wrapped = glueError(call.operation, err, meta);
  return new ClicklakeError(wrapped.code, `${wrapped.message}; ${done}`, wrapped.meta, { cause: err });
}

function asClicklakeError(operation: string, err: unknown): ClicklakeError {
  return err instanceof ClicklakeError ? err : glueError(operation, err);
}

/**
 * Refuses a plan whose view of Glue is out of date: a database or table it creates now exists,
 * or a table it updates has another VersionId (or is gone).
 *
 * @throws ClicklakeError `plan_stale` naming every stale target.
 */
export async function verifyPlanIsCurrent(glue: GlueSender, plan: CatalogPlan): Promise<void> {
  const stale: string[] = [];
  const checked = new Set<string>();
  for (const change of plan.changes) {
    const target = changeTarget(change);
    if (checked.has(target)) continue;
    checked.add(target);
    if (change.type === 'create_database') {
      if (await databaseExists(glue, change.database)) stale.push(`database ${change.database} now exists`);
      continue;
    }
    if (plan.changes.some((c) => c.type === 'create_database' && c.database === change.database)) continue;
    const live = await readLiveTable(glue, change.database, change.table);
    if (change.type === 'create_table') {
      if (live) stale.push(`table ${target} now exists (version ${live.versionId})`);
    } else if (!live) {
      stale.push(`table ${target} no longer exists`);
    } else if (live.versionId !== change.versionId) {
      stale.push(`table ${target} is at version ${live.versionId}, the plan was made against version ${change.versionId}`);
    }
  }
  if (stale.length > 0) {
    throw new ClicklakeError(
      'plan_stale',
      `the plan is out of date (${stale.join('; ')}): nothing was applied; run \`clicklake catalog plan --out <file>\` again and review the new plan`,
      { stale },
    );
  }
}

/**
 * Runs SQL on Amazon Athena: StartQueryExecution, poll GetQueryExecution with exponential backoff
 * until a final state, then page through GetQueryResults. Also runs the curated views' DDL in
 * dependency order with a status per view.
 */
import {
  GetQueryExecutionCommand,
  GetQueryResultsCommand,
  StartQueryExecutionCommand,
  StopQueryExecutionCommand,
  type AthenaClient,
  type QueryExecution,
  type StartQueryExecutionInput,
} from '@aws-sdk/client-athena';
import { awsSetupHint } from '../aws/setup-hint.js';
import { ClicklakeError } from '../errors.js';
import type { ViewDefinition } from './views.js';

/** The only Athena client surface used. */
export type AthenaSender = Pick<AthenaClient, 'send'>;

/** Athena's list price: USD per terabyte (2^40 bytes) scanned. */
export const ATHENA_USD_PER_TB = 5;
/** Athena bills scanned bytes rounded up to whole megabytes (2^20 bytes)... */
export const ATHENA_BILLING_UNIT_BYTES = 1 << 20;
/** ...with a 10 MB minimum per query that scanned anything. */
export const ATHENA_MIN_BILLED_BYTES = 10 * ATHENA_BILLING_UNIT_BYTES;
/** GetQueryResults returns at most 1,000 rows per page. */
export const ATHENA_MAX_RESULTS_PER_PAGE = 1000;

/** Where and how statements run. */
export interface AthenaRunOptions {
  /** Default `primary`. */
  workgroup?: string;
  /** `s3://...` for result files; omitted: the workgroup's result location. */
  outputLocation?: string;
  /** Database of unqualified names (QueryExecutionContext.Database). */
  database?: string;
  /** Sleeps between polls; injectable so tests do not wait. Default setTimeout. */
  sleep?: (ms: number) => Promise<void>;
  /** Milliseconds clock for the timeout. Default Date.now. */
  now?: () => number;
  /** First wait between polls (default 200 ms); doubles up to `maxPollMs` (default 5,000 ms). */
  initialPollMs?: number;
  maxPollMs?: number;
  /** Give up (and stop the query) after this long. Default 30 minutes. */
  timeoutMs?: number;
}

/** What a finished query cost. Failed queries and DDL are free; others bill at least 10 MB. */
export interface AthenaCost {
  scannedBytes: number;
  billedBytes: number;
  usd: number;
}

/** A finished query, results fully read. */
export interface AthenaQueryResult {
  queryExecutionId: string;
  statementType?: string;
  columns: Array<{ name: string; type: string }>;
  /** Values as Athena returns them: strings, null for SQL NULL. */
  rows: Array<Array<string | null>>;
  /** Rows changed by INSERT / CTAS, when Athena reports it. */
  updateCount?: number;
  cost: AthenaCost;
}

/**
 * Athena's price for a query: scanned bytes rounded up to the megabyte with a 10 MB minimum,
 * at $5 per TB. DDL statements (CREATE VIEW, ...) are not billed.
 *
 * @example
 * athenaCost(1, 'DML'); // { scannedBytes: 1, billedBytes: 10485760, usd: 0.0000476837158203125 }
 */
export function athenaCost(scannedBytes: number, statementType?: string): AthenaCost {
  if (statementType === 'DDL') return { scannedBytes, billedBytes: 0, usd: 0 };
  const rounded = Math.ceil(scannedBytes / ATHENA_BILLING_UNIT_BYTES) * ATHENA_BILLING_UNIT_BYTES;
  const billedBytes = Math.max(rounded, ATHENA_MIN_BILLED_BYTES);
  return { scannedBytes, billedBytes, usd: (billedBytes / 2 ** 40) * ATHENA_USD_PER_TB };
}

const defaultSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function awsError(operation: string, err: unknown): ClicklakeError {
  if (err instanceof ClicklakeError) return err;
  const name = (err as { name?: string })?.name ?? 'Error';
  return new ClicklakeError(
    'athena_call_failed',
    `Athena ${operation} failed: ${name}: ${(err as Error)?.message ?? String(err)} (${awsSetupHint(err) ?? 'check the workgroup, output location, region and IAM permissions'})`,
    { operation, awsError: name },
    { cause: err },
  );
}

/** Starts a statement and waits for its final state; returns the final QueryExecution. */
async function startAndWait(athena: AthenaSender, sql: string, options: AthenaRunOptions): Promise<QueryExecution & { QueryExecutionId: string }> {
  const sleep = options.sleep ?? defaultSleep;
  const now = options.now ?? Date.now;
  const input: StartQueryExecutionInput = { QueryString: sql, WorkGroup: options.workgroup ?? 'primary' };
  if (options.database) input.QueryExecutionContext = { Database: options.database };
  if (options.outputLocation) input.ResultConfiguration = { OutputLocation: options.outputLocation };
  let id: string;
  try {
    const started = await athena.send(new StartQueryExecutionCommand(input));
    id = started.QueryExecutionId!;
  } catch (err) {
    throw awsError('StartQueryExecution', err);
  }
  const deadline = now() + (options.timeoutMs ?? 30 * 60_000);
  let wait = options.initialPollMs ?? 200;
  for (;;) {
    let execution: QueryExecution | undefined;
    try {
      execution = (await athena.send(new GetQueryExecutionCommand({ QueryExecutionId: id }))).QueryExecution;
    } catch (err) {
      throw awsError('GetQueryExecution', err);
    }
    const state = execution?.Status?.State;
    if (state === 'SUCCEEDED') return { ...execution, QueryExecutionId: id };
    if (state === 'FAILED' || state === 'CANCELLED') {
      const reason = execution?.Status?.StateChangeReason ?? execution?.Status?.AthenaError?.ErrorMessage ?? 'no reason given';
      throw new ClicklakeError(state === 'FAILED' ? 'athena_query_failed' : 'athena_query_cancelled', `Athena query ${id} ${state}: ${reason}`, {
        queryExecutionId: id,
        state,
        reason,
        scannedBytes: execution?.Statistics?.DataScannedInBytes ?? 0,
      });
    }
    if (now() + wait > deadline) {
      await athena.send(new StopQueryExecutionCommand({ QueryExecutionId: id })).catch(() => undefined);
      throw new ClicklakeError('athena_timeout', `Athena query ${id} did not finish within ${Math.round((options.timeoutMs ?? 1_800_000) / 1000)} s: it was stopped; narrow the query (filter on dt) or raise the timeout`, {
        queryExecutionId: id,
      });
    }
    await sleep(wait);
    wait = Math.min(wait * 2, options.maxPollMs ?? 5000);
  }
}

/**
 * Runs one statement and reads all its results.
 *
 * @throws ClicklakeError `athena_query_failed` with Athena's StateChangeReason, `athena_query_cancelled`,
 *   `athena_timeout`, `athena_call_failed`.
 * @example
 * const result = await runAthenaQuery(new AthenaClient({}), 'SELECT count(*) AS n FROM click_events WHERE dt = ?', { database: 'clicklake' });
 * console.log(result.rows, result.cost.usd);
 */
export async function runAthenaQuery(athena: AthenaSender, sql: string, options: AthenaRunOptions = {}): Promise<AthenaQueryResult> {
  const execution = await startAndWait(athena, sql, options);
  const id = execution.QueryExecutionId;
  const statementType = execution.StatementType;
  let columns: Array<{ name: string; type: string }> = [];
  const rows: Array<Array<string | null>> = [];
  let updateCount: number | undefined;
  let nextToken: string | undefined;
  let first = true;
  do {
    let page;
    try {
      page = await athena.send(new GetQueryResultsCommand({ QueryExecutionId: id, MaxResults: ATHENA_MAX_RESULTS_PER_PAGE, NextToken: nextToken }));
    } catch (err) {
      throw awsError('GetQueryResults', err);
    }
    const pageRows = (page.ResultSet?.Rows ?? []).map((row) => (row.Data ?? []).map((d) => d.VarCharValue ?? null));
    if (first) {
      columns = (page.ResultSet?.ResultSetMetadata?.ColumnInfo ?? []).map((c) => ({ name: c.Label ?? c.Name ?? '', type: c.Type ?? '' }));
      // SELECT results open with a header row holding the column labels; DDL / SHOW results do not.
      const header = pageRows[0];
      if (statementType === 'DML' && header && header.length === columns.length && header.every((v, i) => v === columns[i]!.name)) pageRows.shift();
      if (page.UpdateCount !== undefined) updateCount = page.UpdateCount;
      first = false;
    }
    rows.push(...pageRows);
    // A full last page still carries a NextToken; the page after it is empty, which ends the loop.
    nextToken = page.NextToken;
  } while (nextToken);
  const result: AthenaQueryResult = {
    queryExecutionId: id,
    columns,
    rows,
    cost: athenaCost(execution.Statistics?.DataScannedInBytes ?? 0, statementType),
  };
  if (statementType !== undefined) result.statementType = statementType;
  if (updateCount !== undefined) result.updateCount = updateCount;
  return result;
}

export type ViewStatus = 'applied' | 'failed' | 'notExecuted';

/** One view's outcome. */
export interface ViewResult {
  name: string;
  file: string;
  status: ViewStatus;
  queryExecutionId?: string;
  /** Athena's StateChangeReason (or the call's error) when it failed. */
  error?: string;
}

/**
 * Runs each view's `CREATE OR REPLACE VIEW` in the given (dependency) order and stops at the
 * first failure. Never throws: the failed view carries Athena's reason and the rest are
 * `notExecuted`.
 *
 * @example
 * const { results, error } = await applyViewsOnAthena(athena, await loadViews(), { database: 'clicklake' });
 */
export async function applyViewsOnAthena(
  athena: AthenaSender,
  views: ViewDefinition[],
  options: AthenaRunOptions = {},
): Promise<{ results: ViewResult[]; error?: ClicklakeError }> {
  const results: ViewResult[] = views.map((v) => ({ name: v.name, file: v.file, status: 'notExecuted' }));
  for (const [i, view] of views.entries()) {
    try {
      const { queryExecutionId } = await runAthenaQuery(athena, view.sql, options);
      results[i] = { ...results[i]!, status: 'applied', queryExecutionId };
    } catch (err) {
      const cause = err instanceof ClicklakeError ? err : awsError('StartQueryExecution', err);
      const reason = typeof cause.meta['reason'] === 'string' ? (cause.meta['reason'] as string) : cause.message;
      results[i] = { ...results[i]!, status: 'failed', error: reason };
      const skipped = views.slice(i + 1).map((v) => v.name);
      // Athena refused or failed the statement: the view's SQL is at fault. Otherwise the call did
      // not get through (credentials, permissions, network) and the file is not to blame.
      const sqlAtFault = cause.code !== 'athena_call_failed' || cause.meta['awsError'] === 'InvalidRequestException';
      const todo = sqlAtFault ? `fix ${view.file} and run \`clicklake views apply --athena\` again` : 'run `clicklake views apply --athena` again once that is fixed';
      const error = new ClicklakeError(
        'view_failed',
        `view ${view.name} failed on Athena: ${reason}; ${todo}${skipped.length ? ` (not run: ${skipped.join(', ')})` : ''}`,
        { view: view.name, file: view.file, reason, notExecuted: skipped, applied: views.slice(0, i).map((v) => v.name) },
        { cause },
      );
      return { results, error };
    }
  }
  return { results };
}

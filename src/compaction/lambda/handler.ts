/**
 * The scheduled compaction Lambda. Deploy with an EventBridge schedule (e.g. every 15 minutes);
 * each run compacts the closed arrival hours in the lookback window that have no or an outdated
 * manifest, oldest first, and stops starting new units when the remaining time gets short: the
 * next run continues where it stopped. Configuration comes from environment variables (see
 * docs/aws.md): CLICKLAKE_LAKE (s3://bucket/prefix, required), CLICKLAKE_TABLE, CLICKLAKE_GRACE_MINUTES,
 * CLICKLAKE_LOOKBACK_HOURS, CLICKLAKE_MAX_SKEW_HOURS, CLICKLAKE_LEASE_SECONDS, CLICKLAKE_COMPRESSION, CLICKLAKE_SSE,
 * CLICKLAKE_KMS_KEY_ID, CLICKLAKE_MEMORY_LIMIT, CLICKLAKE_SCHEMAS_DIR.
 *
 * A backfill is an explicit event: `{ "hours": ["2024-05-01T10", ...], "force": true }`.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { loadConfig } from '../../config/load.js';
import { resolveSettings } from '../../config/settings.js';
import { ClicklakeError, isClicklakeError } from '../../errors.js';
import { HOUR_MS, parseHour } from '../../partitions/hours.js';
import { loadTable } from '../../schema/load.js';
import { openStore } from '../../storage/open.js';
import type { ObjectStore } from '../../storage/types.js';
import { compactionContext, manifestSettings } from '../context.js';
import { checkedMemoryLimit, memoryLimitForMemory } from '../write/memory.js';
import { runUnits, type RunSummary } from '../schedule/run.js';
import { planUnits } from '../schedule/scheduler.js';
import { metricsLine } from './metrics.js';

/** What EventBridge sends on a schedule (only the fields used). */
export interface ScheduledEvent {
  source?: string;
  'detail-type'?: string;
  time?: string;
}

export interface BackfillEvent {
  hours: string[];
  force?: boolean;
}

/** The part of the Lambda context used. */
export interface LambdaContextLike {
  getRemainingTimeInMillis(): number;
  awsRequestId?: string;
}

export interface LambdaResult extends RunSummary {
  upToDate: number;
}

/** Never start a unit with less than this left: a unit must have time to commit. */
export const MIN_REMAINING_MS = 60_000;

export function log(level: 'info' | 'warn' | 'error', msg: string, fields: Record<string, unknown> = {}): void {
  const line = JSON.stringify({ level, msg, time: new Date().toISOString(), ...fields });
  if (level === 'error') console.error(line);
  else console.log(line);
}

function isBackfill(event: unknown): event is BackfillEvent {
  return typeof event === 'object' && event !== null && Array.isArray((event as BackfillEvent).hours);
}

/** DuckDB gets its share of the function's memory (write/memory.ts). */
function memoryLimitFor(env: NodeJS.ProcessEnv): string {
  if (env['CLICKLAKE_MEMORY_LIMIT']) return checkedMemoryLimit(env['CLICKLAKE_MEMORY_LIMIT'], 'CLICKLAKE_MEMORY_LIMIT');
  return memoryLimitForMemory(Number(env['AWS_LAMBDA_FUNCTION_MEMORY_SIZE'] ?? 2048));
}

/** Testable core: the handler with its store, environment and clock injected. */
export async function runCompactionJob(
  event: unknown,
  context: LambdaContextLike,
  deps: { env: NodeJS.ProcessEnv; now?: () => number; store?: ObjectStore; workDir?: string },
): Promise<LambdaResult> {
  const env = deps.env;
  const { config } = await loadConfig({ cwd: process.cwd(), env });
  const settings = resolveSettings(config, {});
  if (!settings.lake) throw new ClicklakeError('lake_required', 'set CLICKLAKE_LAKE to the lake root, e.g. s3://my-lake-bucket', {});
  const taskRoot = env['LAMBDA_TASK_ROOT'];
  const schemasDir = env['CLICKLAKE_SCHEMAS_DIR'] ?? settings.schemasDir ?? (taskRoot && existsSync(path.join(taskRoot, 'schemas')) ? path.join(taskRoot, 'schemas') : undefined);
  const spec = await loadTable(env['CLICKLAKE_TABLE'] ?? 'click_events', schemasDir);
  const store = deps.store ?? openStore(settings.lake);
  const now = deps.now ?? Date.now;
  const ctx = compactionContext({ store, spec, settings, now, memoryLimit: memoryLimitFor(env), workDir: deps.workDir ?? env['TMPDIR'] ?? '/tmp' });
  const backfill = isBackfill(event) ? event : undefined;
  const plan = await planUnits(store, settings.layout, spec.name, {
    now: now(),
    graceMs: settings.compaction.graceMinutes * 60_000,
    lookbackMs: settings.compaction.lookbackHours * HOUR_MS,
    ...(backfill ? { hours: backfill.hours.map(parseHour), force: backfill.force === true } : {}),
    settings: manifestSettings(ctx),
  });
  log('info', 'planned', { table: spec.name, todo: plan.todo.map((u) => ({ hour: new Date(u.hour).toISOString(), reason: u.reason })), upToDate: plan.upToDate.length, requestId: context.awsRequestId });
  const summary = await runUnits(ctx, plan.todo, {
    // Start a unit only with room for one like the last one, twice over, and the commit margin.
    mayStartUnit: (lastMs) => context.getRemainingTimeInMillis() > Math.max(MIN_REMAINING_MS, 2 * (lastMs ?? 0)),
    onUnitDone: (u) => log('info', 'unit compacted', { table: spec.name, ...u }),
    lease: { seconds: settings.compaction.leaseSeconds, ...(context.awsRequestId ? { owner: `lambda:${context.awsRequestId}` } : {}), log: (message) => log('warn', message, { table: spec.name }) },
  });
  for (const s of summary.skipped) log('info', 'unit skipped: another run holds it', { table: spec.name, ...s });
  if (summary.deferred.length) log('warn', 'time budget reached: remaining units are left for the next run', { deferred: summary.deferred });
  log('info', 'done', { table: spec.name, units: summary.units.length, deferred: summary.deferred.length, totals: summary.totals });
  console.log(metricsLine(spec.name, summary, now()));
  return { ...summary, upToDate: plan.upToDate.length };
}

/** AWS Lambda entry point (EventBridge scheduled event, or a `{ hours: [...] }` backfill). */
export async function handler(event: ScheduledEvent | BackfillEvent, context: LambdaContextLike): Promise<LambdaResult> {
  try {
    return await runCompactionJob(event, context, { env: process.env });
  } catch (err) {
    log('error', isClicklakeError(err) ? err.message : 'compaction failed', isClicklakeError(err) ? { code: err.code, meta: err.meta } : { error: String((err as Error)?.stack ?? err) });
    throw err;
  }
}

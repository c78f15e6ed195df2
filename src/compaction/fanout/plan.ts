/**
 * A backfill for the fan-out: the hours to compact, split into branches of distinct hours (each
 * the handler's `{ hours, force }` event), and the summary of what the branches answered.
 */
import { ClicklakeError } from '../../errors.js';
import { formatHour, type HourStart } from '../../partitions/hours.js';

/**
 * Hours of one execution: a year. Its input (about 18 bytes an hour) and its worst-case output
 * (every branch failed, echoing its hours) stay below Step Functions' 256 KiB payload limit.
 */
export const MAX_HOURS_PER_EXECUTION = 8_760;
/** Hours per branch by default: a day, a few minutes of one Lambda at the seeds' traffic. */
export const DEFAULT_HOURS_PER_BRANCH = 24;

/** The deployed state machine's name for a table (src/deploy/backfill.ts). */
export function backfillStateMachineName(table: string): string {
  return `clicklake-backfill-${table}`;
}

export interface BackfillItem {
  hours: string[];
  force?: boolean;
}

/** The state machine's input. */
export interface BackfillInput {
  items: BackfillItem[];
}

/** What one branch answered (src/compaction/fanout/definition.ts). */
export type BranchResult = { written: number; units: number; deferred: string[] } | { failed: string[]; error: string };

export interface BackfillSummary {
  branches: number;
  hours: number;
  /** Hours a branch compacted (units with work); the rest were already up to date. */
  unitsCompacted: number;
  written: number;
  /** Hours a branch ran out of time for: a rerun picks them up. */
  deferred: string[];
  failed: Array<{ hours: string[]; error: string }>;
}

export function planBackfill(hours: HourStart[], options: { hoursPerBranch?: number; force?: boolean } = {}): BackfillInput {
  const perBranch = options.hoursPerBranch ?? DEFAULT_HOURS_PER_BRANCH;
  if (!Number.isInteger(perBranch) || perBranch < 1) throw new ClicklakeError('bad_flag', `--hours-per-branch ${perBranch} must be a whole number >= 1`, { perBranch });
  const distinct = [...new Set(hours)].sort((a, b) => a - b);
  if (distinct.length > MAX_HOURS_PER_EXECUTION) {
    throw new ClicklakeError(
      'backfill_too_large',
      `${distinct.length} hours is more than one fan-out takes (${MAX_HOURS_PER_EXECUTION}, a year, for Step Functions' 256 KiB payload limit): split --from/--to into ranges of at most a year and run them one after another`,
      { hours: distinct.length, max: MAX_HOURS_PER_EXECUTION },
    );
  }
  const items: BackfillItem[] = [];
  for (let i = 0; i < distinct.length; i += perBranch) {
    const item: BackfillItem = { hours: distinct.slice(i, i + perBranch).map(formatHour) };
    if (options.force) item.force = true;
    items.push(item);
  }
  return { items };
}

function isFailed(r: BranchResult): r is { failed: string[]; error: string } {
  return Array.isArray((r as { failed?: unknown }).failed);
}

/** Adds up the branches' answers; a branch without an answer counts as failed. */
export function summarizeBackfill(input: BackfillInput, output: BranchResult[]): BackfillSummary {
  const summary: BackfillSummary = { branches: input.items.length, hours: input.items.reduce((n, i) => n + i.hours.length, 0), unitsCompacted: 0, written: 0, deferred: [], failed: [] };
  input.items.forEach((item, i) => {
    const result = output[i];
    if (result === undefined) summary.failed.push({ hours: item.hours, error: 'no result' });
    else if (isFailed(result)) summary.failed.push({ hours: result.failed, error: result.error });
    else {
      summary.unitsCompacted += result.units;
      summary.written += result.written;
      summary.deferred.push(...result.deferred);
    }
  });
  return summary;
}

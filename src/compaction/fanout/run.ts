/**
 * Runs a backfill on a fan-out engine and follows it: start, poll the branch counts until the
 * execution ends, then add up the branches' answers. The engine is Step Functions in production
 * (fanout/sfn.ts) and the same definition run locally in the tests.
 */
import { ClicklakeError } from '../../errors.js';
import { summarizeBackfill, type BackfillInput, type BackfillSummary, type BranchResult } from './plan.js';

export interface BranchCounts {
  total: number;
  pending: number;
  running: number;
  succeeded: number;
  failed: number;
}

export interface ExecutionStatus {
  status: 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED' | 'PENDING_REDRIVE';
  /** Branch counts of the Map run, once it started. */
  branches?: BranchCounts;
  /** The execution's output (the Map's results, one per item), when SUCCEEDED. */
  output?: BranchResult[];
  /** Why it ended otherwise. */
  error?: string;
}

export interface FanOutEngine {
  /** Starts an execution with `input`; returns its id (the execution ARN on AWS). */
  start(input: BackfillInput, name: string): Promise<string>;
  describe(id: string): Promise<ExecutionStatus>;
}

export interface FollowOptions {
  pollMs?: number;
  onStart?: (id: string) => void;
  onProgress?: (status: ExecutionStatus) => void;
  sleep?: (ms: number) => Promise<void>;
}

export interface FanOutResult {
  id: string;
  summary: BackfillSummary;
}

/** An execution name Step Functions accepts (80 characters of [A-Za-z0-9_-]), unique per start. */
export function executionName(input: BackfillInput, now = Date.now()): string {
  const first = input.items[0]?.hours[0] ?? 'none';
  const last = input.items.at(-1)?.hours.at(-1) ?? 'none';
  return `backfill-${first}-${last}-${now}`.replace(/[^A-Za-z0-9_-]/g, '-').slice(0, 80);
}

export async function runFanOut(engine: FanOutEngine, input: BackfillInput, options: FollowOptions = {}): Promise<FanOutResult> {
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const id = await engine.start(input, executionName(input));
  options.onStart?.(id);
  for (;;) {
    const status = await engine.describe(id);
    options.onProgress?.(status);
    if (status.status === 'SUCCEEDED') return { id, summary: summarizeBackfill(input, status.output ?? []) };
    if (status.status !== 'RUNNING') {
      throw new ClicklakeError('fanout_failed', `the backfill execution ${id} ended ${status.status}${status.error ? ` (${status.error})` : ''}: the hours it compacted are kept; run the same command again to do the rest`, { id, status: status.status });
    }
    await sleep(options.pollMs ?? 5_000);
  }
}

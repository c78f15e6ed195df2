import os from 'node:os';
import { formatHour } from '../../partitions/hours.js';
import type { ManifestCounts } from '../../manifest/manifest.js';
import type { PlannedUnit } from './scheduler.js';
import { compactUnit, readManifest, type CompactionContext } from '../unit.js';
import { takeLease, type UnitLease } from '../commit/lease.js';
import { fingerprintInputs, isCommitted } from '../../manifest/manifest.js';
import { parseByteSize } from '../write/memory.js';

export interface UnitSummary {
  hour: string;
  reason: string;
  counts: ManifestCounts;
  files: number;
  durationMs: number;
  rejectReasons: Record<string, number>;
  unknownFields: Record<string, number>;
}

export interface RunSummary {
  units: UnitSummary[];
  /** Units not started because the time budget ran out (the next run continues). */
  deferred: string[];
  /** Units another run holds the lease of (or committed while this one planned): left to it. */
  skipped: Array<{ hour: string; heldBy: string; until: string }>;
  totals: ManifestCounts & { files: number; durationMs: number };
}

export interface RunOptions {
  /** Asked before each unit: false stops starting new units (Lambda's remaining time). */
  mayStartUnit?: (lastUnitMs: number | undefined) => boolean;
  onUnitStart?: (unit: PlannedUnit, index: number, total: number) => void;
  onUnitDone?: (summary: UnitSummary, index: number, total: number) => void;
  /**
   * Units compacted at once (default 1). Each gets 1/N of the memory limit and of the threads, so
   * the machine is shared as one unit would use it; outputs do not depend on N (processing is
   * deterministic per unit), and summaries come back in plan order.
   */
  parallel?: number;
  /** Take each unit's lease first (commit/lease.ts): the CLI and the Lambda do; tests may not. */
  lease?: { seconds: number; owner?: string; log?: (message: string) => void; now?: () => number };
}

/** The context one of `parallel` concurrent units runs with: its share of memory and threads. */
export function unitShare(ctx: CompactionContext, parallel: number): CompactionContext {
  if (parallel <= 1) return ctx;
  const bytes = parseByteSize(ctx.memoryLimit);
  const threads = ctx.threads ?? os.availableParallelism();
  return {
    ...ctx,
    ...(bytes !== undefined ? { memoryLimit: `${Math.max(1, Math.floor(bytes / parallel / 1e6))}MB` } : {}),
    threads: Math.max(1, Math.floor(threads / parallel)),
  };
}

/**
 * Compacts planned units oldest first, up to `parallel` at once; a unit's failure stops starting
 * new ones and fails the run once those in flight have settled (the next run retries it).
 */
export async function runUnits(ctx: CompactionContext, units: PlannedUnit[], options: RunOptions = {}): Promise<RunSummary> {
  const parallel = Math.max(1, Math.floor(options.parallel ?? 1));
  const unitCtx = unitShare(ctx, parallel);
  const results: Array<UnitSummary | undefined> = [];
  const skipped: RunSummary['skipped'] = [];
  let next = 0;
  let stopped = false;
  let failure: { error: unknown } | undefined;
  let lastMs: number | undefined;
  const worker = async (): Promise<void> => {
    while (!stopped && !failure && next < units.length) {
      if (options.mayStartUnit && !options.mayStartUnit(lastMs)) {
        stopped = true;
        return;
      }
      const i = next++;
      const unit = units[i]!;
      options.onUnitStart?.(unit, i, units.length);
      const started = ctx.now();
      let lease: UnitLease | undefined;
      try {
        if (options.lease) {
          const taken = await takeLease(ctx.store, { table: ctx.spec.name, hour: unit.hour, seconds: options.lease.seconds, now: options.lease.now ?? Date.now, ...(options.lease.owner ? { owner: options.lease.owner } : {}), ...(options.lease.log ? { log: options.lease.log } : {}) });
          if ('heldBy' in taken) {
            skipped.push({ hour: formatHour(unit.hour), heldBy: taken.heldBy, until: taken.until });
            continue;
          }
          lease = taken.lease;
          // Planned as new or interrupted, but another run committed it from the same inputs meanwhile.
          const now = unit.reason === 'new' || unit.reason === 'interrupted' ? await readManifest(ctx.store, ctx.layout, ctx.spec.name, unit.hour) : undefined;
          if (now && isCommitted(now) && now.fingerprint === fingerprintInputs(unit.inputs)) {
            skipped.push({ hour: formatHour(unit.hour), heldBy: 'another run (committed meanwhile)', until: now.finishedAt });
            continue;
          }
        }
        const { manifest } = await compactUnit(unitCtx, unit.hour, unit.inputs, lease);
        lastMs = ctx.now() - started;
        const summary: UnitSummary = {
          hour: manifest.hour,
          reason: unit.reason,
          counts: manifest.counts,
          files: manifest.outputs.length,
          durationMs: manifest.durationMs,
          rejectReasons: manifest.rejectReasons,
          unknownFields: manifest.unknownFields,
        };
        results[i] = summary;
        options.onUnitDone?.(summary, i, units.length);
      } catch (error) {
        failure ??= { error };
      } finally {
        await lease?.release().catch(() => undefined);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(parallel, units.length) }, worker));
  if (failure) throw failure.error;
  const done = results.filter((u): u is UnitSummary => u !== undefined);
  const deferred = units.slice(next).map((u) => formatHour(u.hour));
  const totals = { recordsIn: 0, written: 0, duplicates: 0, rejected: 0, bytesIn: 0, bytesOut: 0, files: 0, durationMs: 0 };
  for (const u of done) {
    for (const k of ['recordsIn', 'written', 'duplicates', 'rejected', 'bytesIn', 'bytesOut'] as const) totals[k] += u.counts[k];
    totals.files += u.files;
    totals.durationMs += u.durationMs;
  }
  return { units: done, deferred, skipped, totals };
}

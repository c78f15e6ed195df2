import { formatHour } from '../../partitions/hours.js';
import type { ManifestCounts } from '../../manifest/manifest.js';
import type { PlannedUnit } from './scheduler.js';
import { compactUnit, type CompactionContext } from '../unit.js';

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
  totals: ManifestCounts & { files: number; durationMs: number };
}

export interface RunOptions {
  /** Asked before each unit: false stops starting new units (Lambda's remaining time). */
  mayStartUnit?: (lastUnitMs: number | undefined) => boolean;
  onUnitStart?: (unit: PlannedUnit, index: number, total: number) => void;
  onUnitDone?: (summary: UnitSummary, index: number, total: number) => void;
}

/** Compacts planned units oldest first; one unit's failure stops the run (the next run retries it). */
export async function runUnits(ctx: CompactionContext, units: PlannedUnit[], options: RunOptions = {}): Promise<RunSummary> {
  const done: UnitSummary[] = [];
  const deferred: string[] = [];
  let lastMs: number | undefined;
  for (const [i, unit] of units.entries()) {
    if (options.mayStartUnit && !options.mayStartUnit(lastMs)) {
      deferred.push(...units.slice(i).map((u) => formatHour(u.hour)));
      break;
    }
    options.onUnitStart?.(unit, i, units.length);
    const started = ctx.now();
    const { manifest } = await compactUnit(ctx, unit.hour, unit.inputs);
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
    done.push(summary);
    options.onUnitDone?.(summary, i, units.length);
  }
  const totals = { recordsIn: 0, written: 0, duplicates: 0, rejected: 0, bytesIn: 0, bytesOut: 0, files: 0, durationMs: 0 };
  for (const u of done) {
    for (const k of ['recordsIn', 'written', 'duplicates', 'rejected', 'bytesIn', 'bytesOut'] as const) totals[k] += u.counts[k];
    totals.files += u.files;
    totals.durationMs += u.durationMs;
  }
  return { units: done, deferred, totals };
}

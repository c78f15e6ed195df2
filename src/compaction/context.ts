import os from 'node:os';
import type { Settings } from '../config/settings.js';
import { HOUR_MS } from '../partitions/hours.js';
import type { TableSpec } from '../schema/types.js';
import type { ObjectStore } from '../storage/types.js';
import type { UnitManifest } from '../manifest/manifest.js';
import { settingsHash, type CompactionContext } from './unit.js';
import { memoryLimitForMemory } from './write/memory.js';
import { LAMBDA_LIMITS } from '../base/lambda-limits.js';

/** Rows per Parquet row group: DuckDB's default, small enough for min/max skipping per restaurant. */
export const DEFAULT_ROW_GROUP_ROWS = 122_880;
/**
 * DuckDB memory per unit when none is given: the machine's share, as the Lambda takes the
 * function's (write/memory.ts), counting at most the largest Lambda's memory (10,240 MB, so at
 * most 3072MB). Beyond its limit DuckDB works from the unit's database file and spill files in its
 * scratch directory, so memory stays flat whatever the hour's size. More is not always faster:
 * on the benchmark hour (bench/RESULTS.md) a 7,582 MB limit took 0.5-0.8 s longer to parse and
 * validate than 2-3 GB (4.4-4.5 s against 3.6-3.9 s).
 */
export function defaultMemoryLimit(totalBytes: number = os.totalmem()): string {
  return memoryLimitForMemory(Math.min(totalBytes / 1e6, LAMBDA_LIMITS.memoryMb.max));
}

export interface ContextOptions {
  store: ObjectStore;
  spec: TableSpec;
  settings: Settings;
  now?: () => number;
  memoryLimit?: string;
  threads?: number;
  workDir?: string;
}

export function compactionContext(options: ContextOptions): CompactionContext {
  const { settings } = options;
  const ctx: CompactionContext = {
    store: options.store,
    spec: options.spec,
    layout: settings.layout,
    compression: settings.compaction.compression,
    rowGroupRows: settings.compaction.rowGroupRows ?? DEFAULT_ROW_GROUP_ROWS,
    maxSkewMs: settings.compaction.maxSkewHours * HOUR_MS,
    memoryLimit: options.memoryLimit ?? defaultMemoryLimit(),
    now: options.now ?? Date.now,
  };
  if (settings.sse) ctx.sse = settings.sse;
  if (options.threads) ctx.threads = options.threads;
  if (options.workDir) ctx.workDir = options.workDir;
  return ctx;
}

/** What a manifest written now would record as settings (the scheduler compares them). */
export function manifestSettings(ctx: CompactionContext): UnitManifest['settings'] {
  return { compression: ctx.compression, maxSkewHours: ctx.maxSkewMs / HOUR_MS, schemaHash: settingsHash(ctx) };
}

import { ClicklakeError } from '../../errors.js';

/**
 * DuckDB's memory limit covers its buffer pool, but its Parquet writer holds each thread's row
 * groups outside it. Measured on the benchmark hour under a 256 MB limit: a sorted COPY added
 * ~310 MB of RSS on one thread and 390-470 MB on two. So the Parquet write runs one thread per
 * 256 MiB of the limit (one at the default); the sort before it runs on every thread and stays
 * inside the limit (see writeParquet).
 */
const WRITE_BYTES_PER_THREAD = 256 * 1024 * 1024;

/**
 * DuckDB's share of the memory a unit runs in: the rest is Node, S3 buffers, one raw object and
 * the Parquet writer's row groups, which DuckDB holds outside its limit. The Lambda applies it to
 * the function's memory (3,538 MB -> 1061MB), the CLI to the machine's, so a laptop or CI runner
 * compacts in the configuration that is deployed. Measured on a 4M-event hour as deployed
 * (bench/RESULTS.md): the process peaked at DuckDB's limit plus ~550 MB, so 40% (1,415 MB) went
 * past half the function's memory (1,871 MB) and 30% stays under it (~1,630 MB).
 */
export const DUCKDB_MEMORY_SHARE = 0.3;

/** Below this DuckDB runs out of memory on large hours (200 MB did at 4M events). */
const MIN_MEMORY_LIMIT_MB = 256;

/** DuckDB's memory limit for a function or machine with `totalMb` megabytes, e.g. '1061MB'. */
export function memoryLimitForMemory(totalMb: number): string {
  return `${Math.max(MIN_MEMORY_LIMIT_MB, Math.floor(totalMb * DUCKDB_MEMORY_SHARE))}MB`;
}

const UNITS: Record<string, number> = {
  b: 1, kb: 1e3, mb: 1e6, gb: 1e9, tb: 1e12, kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3, tib: 1024 ** 4,
};

/** '256MB', '1.5GiB', '4GB' -> bytes (DuckDB's size syntax); undefined when it is not one. */
export function parseByteSize(text: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(text);
  if (!m) return undefined;
  const unit = UNITS[(m[2] || 'b').toLowerCase()];
  return unit === undefined ? undefined : Number(m[1]) * unit;
}

/**
 * A memory limit as given by the user (`source` names where: a flag or a variable), checked
 * before any unit starts: DuckDB would only refuse it when it opens a unit's database.
 */
export function checkedMemoryLimit(text: string, source: string): string {
  if (parseByteSize(text) === undefined) {
    throw new ClicklakeError('bad_memory_limit', `${source} "${text}" is not a size: write it like 256MB, 512MiB or 1GB`, { value: text });
  }
  return text;
}

/**
 * From this memory limit up, the sorted rows go straight into the Parquet writer (one COPY with
 * ORDER BY) instead of into a sorted table first: the same bytes, 0.5-0.7 s less on the
 * benchmark hour as deployed (bench/RESULTS.md). Far below it the sort spills, and sorting
 * straight into the writer held ~170 MB beyond a 256 MB limit.
 */
export const DIRECT_WRITE_MIN_BYTES = 1e9;

/** How the Parquet files are written under a memory limit (see writeParquet). */
export interface WritePlan {
  /** Threads for sorting into a table (two-step write). */
  sort: number;
  /** Threads while the Parquet writer runs. */
  write: number;
  /** Sort straight into the writer. */
  direct: boolean;
}

/** Threads for the Parquet write under a memory limit. */
export function writeThreadsFor(memoryLimit: string, threads: number): number {
  const bytes = parseByteSize(memoryLimit);
  if (bytes === undefined) return threads;
  return Math.max(1, Math.min(threads, Math.floor(bytes / WRITE_BYTES_PER_THREAD)));
}

export function writePlanFor(memoryLimit: string, threads: number): WritePlan {
  return { sort: threads, write: writeThreadsFor(memoryLimit, threads), direct: (parseByteSize(memoryLimit) ?? 0) >= DIRECT_WRITE_MIN_BYTES };
}

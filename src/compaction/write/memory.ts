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
 * DuckDB's share of the memory a unit runs in: the rest is Node, S3 buffers and one raw object.
 * The Lambda applies it to the function's memory (3,538 MB -> 1415MB), the CLI to the machine's,
 * so a laptop or CI runner compacts in the configuration that is deployed instead of a fixed
 * 256 MB that made every sort of a large hour spill to disk.
 */
export const DUCKDB_MEMORY_SHARE = 0.4;

/** Below this DuckDB runs out of memory on large hours (200 MB did at 4M events). */
const MIN_MEMORY_LIMIT_MB = 256;

/** DuckDB's memory limit for a function or machine with `totalMb` megabytes, e.g. '1415MB'. */
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

/** Threads for the Parquet write under a memory limit. */
export function writeThreadsFor(memoryLimit: string, threads: number): number {
  const bytes = parseByteSize(memoryLimit);
  if (bytes === undefined) return threads;
  return Math.max(1, Math.min(threads, Math.floor(bytes / WRITE_BYTES_PER_THREAD)));
}

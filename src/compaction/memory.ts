/**
 * DuckDB's memory limit covers its buffer pool, but its sort and Parquet writer also hold memory
 * outside it, per thread: measured on the benchmark hour under a 256 MB limit, the sorted COPY
 * added ~310 MB of RSS on one thread and 390-470 MB on two. So the final sort runs with one
 * thread per 256 MiB of the limit; with the default limit that is one thread: for 1M events the
 * unit peaked at ~570 MiB instead of ~660, and the sort took 5.7 s instead of 5.3 (4x the
 * events: 45 s instead of 22, at 612 MiB instead of 658).
 */
const SORT_BYTES_PER_THREAD = 256 * 1024 * 1024;

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

/** Threads for the final sort and Parquet write under a memory limit. */
export function sortThreadsFor(memoryLimit: string, threads: number): number {
  const bytes = parseByteSize(memoryLimit);
  if (bytes === undefined) return threads;
  return Math.max(1, Math.min(threads, Math.floor(bytes / SORT_BYTES_PER_THREAD)));
}

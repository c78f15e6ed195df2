import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';

export interface DuckDBOptions {
  /** Database file; in-memory when omitted. */
  path?: string;
  /** Worker threads (DuckDB's `threads`). Defaults to DuckDB's own choice (all cores). */
  threads?: number;
  /** DuckDB memory_limit, e.g. '1GB'. Beyond it DuckDB spills to `tempDirectory`. */
  memoryLimit?: string;
  /** Where DuckDB spills when memory runs short. */
  tempDirectory?: string;
  /**
   * Keep result order equal to scan order (DuckDB's default). Turning it off lets large
   * CREATE TABLE AS / COPY stream to disk under the memory limit instead of buffering.
   */
  preserveInsertionOrder?: boolean;
}

/**
 * Opens an embedded DuckDB configured the way clicklake needs it everywhere: no extension
 * downloads (there is no network in Lambda VPCs or CI), freed memory handed back to the system
 * promptly, UTC session time zone, and explicit close in `finally`.
 *
 * @example
 * const rows = await withDuckDB(async (db) => (await db.runAndReadAll('select 42')).getRows());
 */
export async function withDuckDB<T>(fn: (conn: DuckDBConnection) => Promise<T>, options: DuckDBOptions = {}): Promise<T> {
  const config: Record<string, string> = {
    autoinstall_known_extensions: 'false',
    autoload_known_extensions: 'true',
    // DuckDB's allocator (jemalloc) otherwise returns freed pages to the system only when a
    // query thread gets round to it, so memory one step freed could still be resident at the
    // next step's peak: peak RSS of the benchmark hour 526-689 MB over 17 runs without, 493-576
    // over 11 with (bench/RESULTS.md), in the same time.
    allocator_background_threads: 'true',
  };
  if (options.threads !== undefined) config['threads'] = String(options.threads);
  if (options.memoryLimit !== undefined) config['memory_limit'] = options.memoryLimit;
  if (options.tempDirectory !== undefined) config['temp_directory'] = options.tempDirectory;
  if (options.preserveInsertionOrder === false) config['preserve_insertion_order'] = 'false';
  const instance = await DuckDBInstance.create(options.path ?? ':memory:', config);
  const conn = await instance.connect();
  try {
    await conn.run("SET TimeZone = 'UTC'");
    return await fn(conn);
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
}

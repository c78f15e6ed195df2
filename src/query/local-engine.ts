/**
 * The local stand-in for Athena: an embedded DuckDB over the local lake directory, with the
 * curated tables registered as views over their Parquet partitions and Trino's semantics
 * installed (src/query/trino-macros.ts), so the curated views run unchanged.
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DuckDBConnection, DuckDBValue } from '@duckdb/node-api';
import { ClicklakeError } from '../errors.js';
import { withDuckDB } from '../base/duckdb.js';
import { quotedIdentifier, quotedString } from '../base/sql.js';
import { duckdbType } from '../schema/render-types.js';
import type { TableSpec } from '../schema/types.js';
import { installTrinoMacros } from './trino-macros.js';
import type { ViewDefinition } from './views.js';

/** A curated table to register: its name (`<lake>/curated/<name>/`) and declared columns. */
export interface LocalTable {
  name: string;
  /** Columns in order, with their DuckDB types (src/schema/render-types.ts `duckdbType`). Without `dt`. */
  columns: Array<{ name: string; duckdbType: string }>;
}

/** The curated tables of the schemas, as the local engine registers them. */
export function localTablesOf(specs: TableSpec[]): LocalTable[] {
  return specs.map((spec) => ({ name: spec.name, columns: spec.columns.map((f) => ({ name: f.name, duckdbType: duckdbType(f.type) })) }));
}

export interface LocalEngineOptions {
  /** The lake directory (or a `file://` URL): tables are read from `<lakeDir>/curated/<table>/dt=*\/*.parquet`. */
  lakeDir: string;
  tables: LocalTable[];
  /** DuckDB worker threads; DuckDB's default (all cores) when omitted. */
  threads?: number;
}

/** A query result, fully read. */
export interface QueryResult {
  columns: Array<{ name: string; type: string }>;
  /**
   * Rows as JS values: integers as `number` (as `bigint` only beyond 2^53), timestamps as `Date`
   * (UTC), maps as `[{ key, value }]`, structs as objects, NULL as `null`.
   */
  rows: unknown[][];
}

/** An open local engine. Call `close()` when done. */
export interface LocalEngine {
  /** Runs one statement and reads the whole result. Values are bound as `$1`/`?` or `$name` parameters. */
  query(sql: string, params?: DuckDBValue[] | Record<string, DuckDBValue>): Promise<QueryResult>;
  close(): Promise<void>;
  /** The underlying connection, for callers that need DuckDB directly. */
  conn: DuckDBConnection;
}

/** Partition column the curated tables get from their `dt=YYYY-MM-DD` directories. */
const PARTITION_COLUMN = 'dt';

function lakePath(lakeDir: string): string {
  return lakeDir.startsWith('file://') ? fileURLToPath(lakeDir) : lakeDir;
}

/** JS value of a DuckDB result value, with integers as numbers where they fit. */
function plainValue(value: unknown): unknown {
  if (typeof value === 'bigint') {
    return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value;
  }
  if (Array.isArray(value)) return value.map(plainValue);
  if (value !== null && typeof value === 'object' && !(value instanceof Date) && !ArrayBuffer.isView(value)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plainValue(v)]));
  }
  return value;
}

async function hasParquetFiles(tableDir: string): Promise<boolean> {
  let partitions: string[];
  try {
    partitions = (await readdir(tableDir)).filter((d) => d.startsWith(`${PARTITION_COLUMN}=`));
  } catch {
    return false; // no directory yet: the table is empty
  }
  for (const partition of partitions) {
    const files = await readdir(join(tableDir, partition)).catch(() => [] as string[]);
    if (files.some((f) => f.endsWith('.parquet'))) return true;
  }
  return false;
}

/**
 * Registers one curated table as a view. The SELECT list casts every declared column to its
 * declared type, so the view has the table's columns whatever the files hold: a column no file
 * has yet (added to the schema later) reads as NULL, and a table with no files is an empty view
 * of the same shape. `dt` is passed through untouched so `WHERE dt = ...` prunes files.
 */
async function registerTable(conn: DuckDBConnection, lakeDir: string, table: LocalTable): Promise<void> {
  const columns = table.columns.filter((c) => c.name !== PARTITION_COLUMN);
  const tableDir = join(lakeDir, 'curated', table.name);
  const view = quotedIdentifier(table.name);
  if (!(await hasParquetFiles(tableDir))) {
    const select = columns.map((c) => `CAST(NULL AS ${c.duckdbType}) AS ${quotedIdentifier(c.name)}`);
    select.push(`CAST(NULL AS VARCHAR) AS ${PARTITION_COLUMN}`);
    await conn.run(`CREATE OR REPLACE VIEW ${view} AS SELECT ${select.join(', ')} WHERE false`);
    return;
  }
  const source =
    `read_parquet(${quotedString(join(tableDir, `${PARTITION_COLUMN}=*`, '*.parquet'))}, ` +
    `hive_partitioning = true, hive_types = {'${PARTITION_COLUMN}': 'VARCHAR'}, union_by_name = true)`;
  const present = new Set(
    (await conn.runAndReadAll(`DESCRIBE SELECT * FROM ${source}`)).getRowObjectsJS().map((r) => String(r['column_name'])),
  );
  const select = columns.map((c) =>
    present.has(c.name)
      ? `CAST(${quotedIdentifier(c.name)} AS ${c.duckdbType}) AS ${quotedIdentifier(c.name)}`
      : `CAST(NULL AS ${c.duckdbType}) AS ${quotedIdentifier(c.name)}`,
  );
  select.push(PARTITION_COLUMN);
  await conn.run(`CREATE OR REPLACE VIEW ${view} AS SELECT ${select.join(', ')} FROM ${source}`);
}

/**
 * Opens an in-memory DuckDB over the local lake: installs the Trino macros, then registers each
 * table as a view named like its Glue table. Tables are registered once, at open: files written
 * to a table that had none at open are not seen until the engine is reopened.
 *
 * @example
 * const engine = await openLocalEngine({ lakeDir: './lake', tables: [{ name: 'click_events', columns }] });
 * try {
 *   await applyViewsLocally(engine, await loadViews());
 *   const { rows } = await engine.query('SELECT * FROM item_conversion WHERE dt = $1', ['2024-05-01']);
 * } finally {
 *   await engine.close();
 * }
 */
export async function openLocalEngine(options: LocalEngineOptions): Promise<LocalEngine> {
  const lakeDir = lakePath(options.lakeDir);
  let release!: () => void;
  const released = new Promise<void>((resolve) => {
    release = resolve;
  });
  return new Promise<LocalEngine>((resolve, reject) => {
    // withDuckDB owns the connection's lifetime: keep its callback pending until close().
    const finished = withDuckDB(
      async (conn) => {
        await installTrinoMacros(conn);
        for (const table of options.tables) {
          try {
            await registerTable(conn, lakeDir, table);
          } catch (err) {
            const reason = err instanceof Error ? err.message.split('\n')[0] : String(err);
            throw new ClicklakeError(
              'local_table_failed',
              `cannot register table ${table.name} from ${join(lakeDir, 'curated', table.name)} (${reason}): check its Parquet files and declared column types`,
              { table: table.name, lakeDir },
              { cause: err },
            );
          }
        }
        resolve({
          conn,
          async query(sql, params) {
            const reader = await conn.runAndReadAll(sql, params);
            const names = reader.columnNames();
            const types = reader.columnTypes();
            return {
              columns: names.map((name, i) => ({ name, type: String(types[i]) })),
              rows: reader.getRowsJS().map((row) => row.map(plainValue)),
            };
          },
          async close() {
            release();
            await finished;
          },
        });
        await released;
      },
      options.threads === undefined ? {} : { threads: options.threads },
    );
    finished.catch(reject);
  });
}

/**
 * Creates the curated views on the local engine, in the given order (use {@link loadViews}'s
 * dependency order). The view SQL runs as written: the Trino macros give it Trino's semantics.
 *
 * @throws ClicklakeError `local_view_failed` with the view's file when DuckDB rejects a view.
 */
export async function applyViewsLocally(engine: LocalEngine, views: ViewDefinition[]): Promise<Array<{ name: string; status: 'created' }>> {
  const results: Array<{ name: string; status: 'created' }> = [];
  for (const view of views) {
    try {
      await engine.conn.run(view.sql);
    } catch (err) {
      const reason = err instanceof Error ? err.message.split('\n')[0] : String(err);
      throw new ClicklakeError(
        'local_view_failed',
        `view ${view.name} failed on the local engine (${reason}): fix ${view.file}`,
        { view: view.name, file: view.file, created: results.map((r) => r.name) },
        { cause: err },
      );
    }
    results.push({ name: view.name, status: 'created' });
  }
  return results;
}

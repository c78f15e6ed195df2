/**
 * What Athena would bill for a query, worked out on the local engine: the bytes Athena would scan
 * over the curated Parquet tables (estimated from DuckDB's plan and the files' footers, or
 * measured from DuckDB's file system log), the bytes of the raw JSON objects the same question
 * reads, and the price.
 *
 * How Athena counts (its pricing page and user guide): a query is billed for the bytes it reads
 * from S3, compressed as stored. For Parquet it reads only the column chunks of the columns the
 * query references, in the row groups whose min/max statistics can match the pushed-down filters,
 * in the partitions left after partition pruning; partition columns (`dt`) are not in the files
 * and cost nothing. For JSON (plain or GZIP) it reads whole objects in every partition it touches.
 */
import { readdir, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DuckDBConnection } from '@duckdb/node-api';
import { ClicklakeError } from '../errors.js';
import { DAY_MS, HOUR_MS } from '../partitions/hours.js';
import { DEFAULT_LAYOUT, rawHourPrefix } from '../partitions/layout.js';
import type { LocalEngine } from './local-engine.js';
import { columnChunksSql, combineMayMatch, parquetFooterRange, tableFilterMayMatch, type FooterRange, type PlanNode } from './parquet-footer.js';
import { quotedString } from '../base/sql.js';

/**
 * Athena's units. Its pricing page says "$5 per TB scanned, rounded up to the nearest megabyte,
 * with a 10 MB minimum per query" without defining TB; AWS bills data in binary units (the S3
 * FAQ's own example: 100 GB = 107,374,182,400 bytes), so MB = 2^20 and TB = 2^40 bytes here.
 */
export const BYTES_PER_MB = 2 ** 20;
export const BYTES_PER_TB = 2 ** 40;
export const USD_PER_TB_SCANNED = 5;
export const MIN_BILLED_MB_PER_QUERY = 10;

/** `PAR1` at the start of every Parquet file: not column data. */
const MAGIC_BYTES = 4;

/** What Athena would bill for one query over the curated Parquet tables. */
export interface ScanEstimate {
  /** Bytes Athena would read (compressed column chunks), before rounding. */
  bytesScanned: number;
  /** `bytesScanned` rounded up to the MB, at least 10 MB. */
  billedBytes: number;
  /** `billedBytes` at $5 per TB (TB = 2^40 bytes). */
  costUsd: number;
  /** Distinct Parquet files left after partition (`dt`) pruning: the files Athena opens. */
  files: number;
  /** Distinct Parquet files of the scanned tables before partition pruning. */
  filesTotal: number;
  /** Row groups (of `files`) whose min/max statistics can match the filters: the ones read. */
  rowGroups: number;
  /** Row groups in `files`, before statistics pruning. */
  rowGroupsTotal: number;
  /** Columns read from the files, sorted (partition columns are not in the files and not listed). */
  columns: string[];
  /**
   * Table scans Athena would run. Athena (Trino) inlines WITH queries, so a CTE referenced three
   * times is three scans and is counted three times in `bytesScanned`, although DuckDB reads it
   * once. A raw-table comparison of the same question reads its objects this many times.
   */
  tableScans: number;
  /** True when part of the plan could not be read exactly and the estimate is an upper bound. */
  approximate: boolean;
  /** Why the estimate is approximate, and other things worth saying next to the number. */
  notes: string[];
}

/** One scan of a curated table, as the plan gives it. */
interface TableScan {
  /** `<lake>/curated/<table>` of the scan's files, to count distinct files per table. */
  table: string;
  /** Files left after partition pruning. */
  files: string[];
  filesTotal: number;
  /** Columns read from the files (filter columns included). */
  columns: string[];
  /** Filters pushed into the scan, by column (DuckDB TableFilter, serialized). */
  filters: Array<{ column: string; filter: Record<string, unknown> }>;
}

interface PlanScans {
  scans: TableScan[];
  approximate: boolean;
  notes: string[];
}

/** Rounds up to the MB with a 10 MB minimum and prices at $5 per TB. */
export function athenaCost(bytesScanned: number): { billedBytes: number; costUsd: number } {
  if (!Number.isFinite(bytesScanned) || bytesScanned < 0) {
    throw new ClicklakeError('bad_byte_count', `bytes scanned must be a non-negative number, got ${bytesScanned}`, { bytesScanned });
  }
  const billedMb = Math.max(Math.ceil(bytesScanned / BYTES_PER_MB), MIN_BILLED_MB_PER_QUERY);
  const billedBytes = billedMb * BYTES_PER_MB;
  return { billedBytes, costUsd: (billedBytes / BYTES_PER_TB) * USD_PER_TB_SCANNED };
}

const BYTE_UNITS = ['B', 'KB', 'MB', 'GB', 'TB', 'PB'];

/** `12.3 MB` (binary units, as Athena bills); whole bytes below 1 KB: `512 B`. */
export function formatBytes(n: number): string {
  let value = n;
  let unit = 0;
  while (Math.abs(value) >= 1024 && unit < BYTE_UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${n} B` : `${value.toFixed(1)} ${BYTE_UNITS[unit]}`;
}

/** `$0.000061`: six decimals, enough for one 10 MB minimum ($0.000048). */
export function formatUsd(x: number): string {
  return `$${x.toFixed(6)}`;
}

// ---------------------------------------------------------------------------------------------
// Reading the plan

/** json_serialize_plan prints "no index" (UINT64_MAX) as a number JSON.parse cannot hold exactly. */
function safeIndex(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? value : undefined;
}

function planError(message: string): ClicklakeError {
  return new ClicklakeError('scan_plan_unreadable', message, {});
}

/** Partition column names in a file path (`.../dt=2024-05-01/x.parquet` -> `dt`). */
function partitionColumns(file: string): string[] {
  return [...file.matchAll(/[/\\]([^/\\=]+)=[^/\\]*(?=[/\\])/g)].map((m) => m[1]!);
}

/** The scan of one LOGICAL_GET over read_parquet. */
function parquetScan(node: PlanNode): TableScan {
  const data = node['function_data'] as { files?: unknown } | undefined;
  const names = node['names'];
  const columnIndexes = node['column_indexes'];
  if (!Array.isArray(data?.files) || !Array.isArray(names) || !Array.isArray(columnIndexes)) {
    throw planError('the read_parquet scan in the plan has no file list or columns');
  }
  const files = data.files.map(String);
  const partitions = new Set(files.flatMap(partitionColumns));
  const nameAt = (index: unknown): string | undefined => {
    const i = safeIndex(index);
    return i === undefined ? undefined : (names[i] as string | undefined);
  };
  const columns = new Set<string>();
  for (const c of columnIndexes as Array<{ index?: unknown }>) {
    const name = nameAt(c.index); // no name: the row-id column of count(*), which reads no data
    if (name !== undefined && !partitions.has(name)) columns.add(name);
  }
  const filters: TableScan['filters'] = [];
  const tableFilters = (node['table_filters'] as { filters?: Array<{ key?: unknown; value?: Record<string, unknown> }> } | undefined)?.filters ?? [];
  for (const f of tableFilters) {
    const column = nameAt(f.key);
    if (column === undefined || f.value === undefined) continue;
    if (partitions.has(column)) continue; // already applied: `files` is the pruned list
    columns.add(column);
    filters.push({ column, filter: f.value });
  }
  const extra = node['extra_info'] as { total_files?: unknown } | undefined;
  const total = safeIndex(extra?.total_files);
  return {
    table: files.length > 0 ? dirname(dirname(files[0]!)) : `(empty scan)`,
    files,
    filesTotal: total ?? files.length,
    columns: [...columns],
    filters,
  };
}

/**
 * The curated-table scans of a plan, a CTE's scans once per reference: Athena (Trino) inlines
 * WITH queries, so each reference is a scan of its own.
 */
function collectScans(root: PlanNode): PlanScans {
  const result: PlanScans = { scans: [], approximate: false, notes: [] };
  const references = new Map<string, number>();
  const visit = (node: PlanNode, ctes: Map<number, { name: string; scans: TableScan[] }>): TableScan[] => {
    const children = node.children ?? [];
    if (node.type === 'LOGICAL_MATERIALIZED_CTE' && children.length === 2) {
      const name = String(node['ctename'] ?? 'cte');
      const inner = new Map(ctes);
      inner.set(Number(node['table_index']), { name, scans: visit(children[0]!, ctes) });
      return visit(children[1]!, inner);
    }
    if (node.type === 'LOGICAL_CTE_REF') {
      const cte = ctes.get(Number(node['cte_index']));
      if (cte === undefined) {
        result.approximate = true;
        result.notes.push('a recursive or unknown CTE reference was not counted');
        return [];
      }
      references.set(cte.name, (references.get(cte.name) ?? 0) + 1);
      return cte.scans;
    }
    if (node.type === 'LOGICAL_GET') {
      const fn = String(node['name'] ?? '');
      if (fn === 'read_parquet' || fn === 'parquet_scan') return [parquetScan(node)];
      const data = node['function_data'] as { files?: unknown } | undefined;
      if (Array.isArray(data?.files)) {
        result.approximate = true;
        result.notes.push(`a ${fn} scan reads files that are not curated Parquet: not counted`);
      }
      return [];
    }
    return children.flatMap((child) => visit(child, ctes));
  };
  result.scans = visit(root, new Map());
  for (const [name, count] of references) {
    if (count > 1) {
      result.approximate = true;
      result.notes.push(
        `CTE ${name} is referenced ${count} times: counted as ${count} scans (Athena inlines WITH queries); ` +
          `filters DuckDB kept above the CTE may let Athena prune more`,
      );
    }
  }
  return result;
}

/** DuckDB's optimized logical plan of `sql`, as JSON (views expanded, filters pushed into scans). */
async function logicalPlan(conn: DuckDBConnection, sql: string): Promise<{ plans: PlanNode[]; text: string }> {
  const reader = await conn.runAndReadAll('SELECT json_serialize_plan($1::VARCHAR, optimize := true) AS plan', [sql]);
  const text = String(reader.getRowObjectsJS()[0]?.['plan'] ?? '');
  const parsed = JSON.parse(text) as { error?: boolean; error_message?: string; plans?: PlanNode[] };
  if (parsed.error) {
    throw new ClicklakeError(
      'scan_estimate_failed',
      `DuckDB cannot plan the query (${String(parsed.error_message ?? 'unknown error').split('\n')[0]}): fix the SQL and retry`,
      { sql },
    );
  }
  if (!Array.isArray(parsed.plans)) throw planError('json_serialize_plan returned no plans');
  return { plans: parsed.plans, text };
}

/**
 * Fallback when the plan cannot be read: every column of every curated table the query names
 * (directly or through views), in all of its files.
 */
async function wholeTableScans(conn: DuckDBConnection, sql: string): Promise<TableScan[]> {
  const views = (await conn.runAndReadAll('SELECT view_name, sql FROM duckdb_views() WHERE NOT internal')).getRowObjectsJS();
  const viewSql = new Map(views.map((v) => [String(v['view_name']).toLowerCase(), String(v['sql'])]));
  const identifiers = (text: string) => new Set(text.toLowerCase().match(/[a-z_][a-z0-9_]*/g) ?? []);
  const seen = new Set<string>();
  const pending = [...identifiers(sql)];
  while (pending.length > 0) {
    const name = pending.pop()!;
    if (seen.has(name) || !viewSql.has(name)) continue;
    seen.add(name);
    pending.push(...identifiers(viewSql.get(name)!));
  }
  const scans: TableScan[] = [];
  for (const name of seen) {
    const glob = /read_parquet\('((?:[^']|'')*)'/.exec(viewSql.get(name)!)?.[1]?.replaceAll("''", "'");
    if (glob === undefined) continue;
    const files = (await conn.runAndReadAll(`SELECT file FROM glob(${quotedString(glob)}) ORDER BY file`)).getRowObjectsJS().map((r) => String(r['file']));
    const partitions = new Set(files.flatMap(partitionColumns));
    const columns = (await conn.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet(${quotedString(glob)}, union_by_name = true)`))
      .getRowObjectsJS()
      .map((r) => String(r['column_name']))
      .filter((c) => !partitions.has(c));
    scans.push({ table: dirname(glob.slice(0, glob.indexOf('*'))), files, filesTotal: files.length, columns, filters: [] });
  }
  return scans;
}

// ---------------------------------------------------------------------------------------------
// Footers -> bytes

interface ScanBytes {
  bytes: number;
  rowGroups: Set<string>;
  rowGroupsTotal: Set<string>;
}

/**
 * Sums, over the row groups of the scan's files that may match its filters, the compressed size
 * of the leaf column chunks of its columns (a struct counts all its leaves, a map its key and
 * value leaves). The statistics test runs in DuckDB, so values compare with DuckDB's ordering of
 * each type (strings byte-wise, as Parquet statistics are ordered).
 */
async function scanBytes(conn: DuckDBConnection, scan: TableScan): Promise<ScanBytes> {
  const result: ScanBytes = { bytes: 0, rowGroups: new Set(), rowGroupsTotal: new Set() };
  if (scan.files.length === 0) return result;
  const filterColumns = [...new Set(scan.filters.map((f) => f.column))];
  const statsColumns = filterColumns.flatMap((column, i) => {
    const at = `path_in_schema = ${quotedString(column)}`;
    return [
      `max(stats_min_value) FILTER (WHERE ${at}) AS lo_${i}`,
      `max(stats_max_value) FILTER (WHERE ${at}) AS hi_${i}`,
      `max(stats_null_count) FILTER (WHERE ${at}) AS nulls_${i}`,
    ];
  });
  const predicates = scan.filters.map((f) => {
    const i = filterColumns.indexOf(f.column);
    return tableFilterMayMatch(f.filter, { lo: `lo_${i}`, hi: `hi_${i}`, nulls: `nulls_${i}`, rows: 'num_rows' });
  });
  const mayMatch = combineMayMatch(predicates, 'AND') ?? 'true';
  const projected = scan.columns.length === 0 ? 'false' : `string_split(path_in_schema, ', ')[1] IN (${scan.columns.map(quotedString).join(', ')})`;
  const sql =
    `WITH chunks AS (${columnChunksSql(scan.files)}), ` +
    `row_groups AS (SELECT file_name, row_group_id, any_value(row_group_num_rows) AS num_rows, ` +
    `coalesce(sum(total_compressed_size) FILTER (WHERE ${projected}), 0) AS bytes` +
    `${statsColumns.map((c) => `, ${c}`).join('')} FROM chunks GROUP BY file_name, row_group_id) ` +
    `SELECT file_name, row_group_id, CAST(bytes AS BIGINT) AS bytes, coalesce(${mayMatch}, true) AS may_match FROM row_groups`;
  for (const row of (await conn.runAndReadAll(sql)).getRowObjectsJS()) {
    const id = `${String(row['file_name'])}#${String(row['row_group_id'])}`;
    result.rowGroupsTotal.add(id);
    if (row['may_match'] === true) {
      result.rowGroups.add(id);
      result.bytes += Number(row['bytes']);
    }
  }
  return result;
}

/**
 * Estimates what Athena would scan and bill for `sql` over the curated tables, without running
 * the query: DuckDB plans it (views expanded, `dt` filters pruning files, column filters pushed
 * into the scans), then each scan's bytes are summed from the Parquet footers: compressed column
 * chunks of the columns the scan reads, in the row groups whose min/max statistics can match its
 * filters. Write values into the SQL (`$1` parameters cannot be planned and prune nothing).
 *
 * Limits: a struct counts all its leaves even when one field is read; only filters DuckDB pushes
 * into the scan prune row groups; a CTE referenced N times counts N scans (`notes` says so).
 * When the plan cannot be read, every column of every named table in all its files is counted
 * and `approximate` is true.
 *
 * @example
 * const est = await estimateScanCost(engine, "SELECT * FROM item_conversion WHERE dt = '2024-05-01'");
 * console.log(formatBytes(est.bytesScanned), formatUsd(est.costUsd));
 */
export async function estimateScanCost(engine: LocalEngine, sql: string): Promise<ScanEstimate> {
  const conn = engine.conn;
  const { plans, text } = await logicalPlan(conn, sql);
  let found: PlanScans;
  try {
    const perPlan = plans.map(collectScans);
    found = { scans: perPlan.flatMap((p) => p.scans), approximate: perPlan.some((p) => p.approximate), notes: perPlan.flatMap((p) => p.notes) };
  } catch (err) {
    if (!(err instanceof ClicklakeError) || err.code !== 'scan_plan_unreadable') throw err;
    found = {
      scans: await wholeTableScans(conn, sql),
      approximate: true,
      notes: [`${err.message}: counted every column of the tables the query names, in all their files`],
    };
  }
  if (text.includes('"VALUE_PARAMETER"')) {
    found.approximate = true;
    found.notes.push('the query has parameters: their filters could not prune files or row groups');
  }
  let bytesScanned = 0;
  const files = new Set<string>();
  const filesTotal = new Map<string, number>();
  const rowGroups = new Set<string>();
  const rowGroupsTotal = new Set<string>();
  const columns = new Set<string>();
  for (const scan of found.scans) {
    const bytes = await scanBytes(conn, scan);
    bytesScanned += bytes.bytes;
    scan.files.forEach((f) => files.add(f));
    filesTotal.set(scan.table, Math.max(filesTotal.get(scan.table) ?? 0, scan.filesTotal));
    bytes.rowGroups.forEach((g) => rowGroups.add(g));
    bytes.rowGroupsTotal.forEach((g) => rowGroupsTotal.add(g));
    scan.columns.forEach((c) => columns.add(c));
  }
  if (columns.size === 0 && found.scans.length > 0) {
    found.notes.push("no column data is read (count(*) is answered from the footers' row counts): billed at the 10 MB minimum");
  }
  return {
    bytesScanned,
    ...athenaCost(bytesScanned),
    files: files.size,
    filesTotal: [...filesTotal.values()].reduce((a, b) => a + b, 0),
    rowGroups: rowGroups.size,
    rowGroupsTotal: rowGroupsTotal.size,
    columns: [...columns].sort(),
    tableScans: found.scans.length,
    approximate: found.approximate,
    notes: found.notes,
  };
}

// ---------------------------------------------------------------------------------------------
// Measured reads

interface FileSystemLogEntry {
  path?: string;
  op?: string;
  bytes?: string;
  pos?: string;
}

/**
 * Distinct bytes covered by `ranges` (`[start, end)`) within the column data of a file: between
 * the leading magic and the footer. DuckDB peeks 256 bytes of each page header before reading the
 * page, so the same bytes are read more than once; they are counted once, as one reader fetching
 * each byte range once would be billed.
 */
function distinctDataBytes(ranges: Array<[number, number]>, footer: FooterRange): number {
  const clipped = ranges
    .map(([start, end]): [number, number] => [Math.max(start, MAGIC_BYTES), Math.min(end, footer.start)])
    .filter(([start, end]) => end > start)
    .sort((a, b) => a[0] - b[0]);
  let total = 0;
  let coveredTo = 0;
  for (const [start, end] of clipped) {
    if (end <= coveredTo) continue;
    total += end - Math.max(start, coveredTo);
    coveredTo = end;
  }
  return total;
}

/**
 * Runs `sql` on the local engine and returns the distinct bytes DuckDB read from Parquet column
 * data, per file (footer and magic reads left out, as the estimate leaves them out; a file read
 * twice counts once), from DuckDB's FileSystem
 * log (`CALL enable_logging('FileSystem')`, read back from `duckdb_logs`). DuckDB's in-memory
 * file cache is switched off for the run so every read reaches the file system. DuckDB reads
 * what it needs, which is not what Athena reads (it materializes CTEs once, prefetches whole
 * ranges, prunes row groups its own way): use it to cross-check {@link estimateScanCost}, not
 * as the bill. Run nothing else on the engine meanwhile: the log is per database.
 *
 * @throws ClicklakeError `scan_log_unavailable` when this DuckDB build has no FileSystem log.
 */
export async function measureScanBytes(engine: LocalEngine, sql: string): Promise<number> {
  const conn = engine.conn;
  const setting = async (name: string) =>
    String((await conn.runAndReadAll(`SELECT current_setting(${quotedString(name)}) AS v`)).getRowObjectsJS()[0]?.['v']);
  const fileCache = await setting('enable_external_file_cache');
  try {
    await conn.run('SET enable_external_file_cache = false');
    await conn.run('CALL truncate_duckdb_logs()');
    await conn.run(`CALL enable_logging('FileSystem')`);
  } catch (err) {
    throw new ClicklakeError(
      'scan_log_unavailable',
      `DuckDB's FileSystem log is not available (${err instanceof Error ? err.message.split('\n')[0] : String(err)}): use estimateScanCost instead`,
      {},
      { cause: err },
    );
  }
  let entries: FileSystemLogEntry[];
  try {
    const result = await conn.stream(sql);
    for (let chunk = await result.fetchChunk(); chunk !== null && chunk.rowCount > 0; chunk = await result.fetchChunk()) {
      // drain: the query runs as its result is fetched
    }
    const logs = await conn.runAndReadAll(`SELECT message FROM duckdb_logs WHERE type = 'FileSystem'`);
    entries = logs.getRowObjectsJS().map((r) => JSON.parse(String(r['message'])) as FileSystemLogEntry);
  } finally {
    await conn.run('CALL disable_logging()');
    await conn.run('CALL truncate_duckdb_logs()');
    await conn.run(`SET enable_external_file_cache = ${fileCache === 'true' ? 'true' : 'false'}`);
  }
  const reads = new Map<string, Array<[number, number]>>();
  for (const entry of entries) {
    if (entry.op !== 'READ' || entry.path === undefined || !entry.path.endsWith('.parquet')) continue;
    const pos = Number(entry.pos);
    const ranges = reads.get(entry.path) ?? [];
    ranges.push([pos, pos + Number(entry.bytes)]);
    reads.set(entry.path, ranges);
  }
  let total = 0;
  for (const [file, ranges] of reads) total += distinctDataBytes(ranges, await parquetFooterRange(file));
  return total;
}

// ---------------------------------------------------------------------------------------------
// The raw JSON table

const DATE_ID = /^(\d{4})-(\d{2})-(\d{2})$/;

function parseDate(text: string, what: string): number {
  const m = DATE_ID.exec(text);
  const ms = m ? Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])) : NaN;
  if (!m || new Date(ms).toISOString().slice(0, 10) !== text) {
    throw new ClicklakeError('bad_date', `${what} "${text}" is not a date: write it as YYYY-MM-DD, e.g. 2024-05-01`, { value: text });
  }
  return ms;
}

/** Total size of the files under `dir`, recursively; 0 when it does not exist. */
async function directoryBytes(dir: string): Promise<number> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw err;
  }
  let total = 0;
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) total += await directoryBytes(path);
    else if (entry.isFile()) total += (await stat(path)).size;
  }
  return total;
}

/**
 * Bytes Athena would scan answering a question about event dates `[from, to]` from the raw JSON
 * table: the stored (compressed) size of every object in the arrival-hour partitions it must read.
 * The raw table is partitioned only by arrival hour (`dt` projection `yyyy/MM/dd/HH`), and JSON
 * is read whole, so the question reads every hour from `from` 00:00 to `to` 23:00 UTC, plus
 * `lateHours` more hours for events that arrive late.
 *
 * @example
 * await rawScanBytes('./lake', 'click_events', { from: '2024-05-01', to: '2024-05-07' }, 1);
 */
export async function rawScanBytes(lakeDir: string, table: string, dates: { from: string; to: string }, lateHours = 0): Promise<number> {
  const from = parseDate(dates.from, 'from');
  const to = parseDate(dates.to, 'to');
  if (to < from) throw new ClicklakeError('bad_date_range', `date range ${dates.from}..${dates.to} ends before it starts: swap from and to`, dates);
  if (!Number.isSafeInteger(lateHours) || lateHours < 0) {
    throw new ClicklakeError('bad_late_hours', `lateHours must be a whole number of hours >= 0, got ${lateHours}`, { lateHours });
  }
  const root = lakeDir.startsWith('file://') ? fileURLToPath(lakeDir) : lakeDir;
  const last = to + DAY_MS - HOUR_MS + lateHours * HOUR_MS;
  let total = 0;
  for (let hour = from; hour <= last; hour += HOUR_MS) {
    total += await directoryBytes(join(root, rawHourPrefix(DEFAULT_LAYOUT, table, hour)));
  }
  return total;
}

import type { DuckDBConnection } from '@duckdb/node-api';
import path from 'node:path';
import { ClicklakeError } from '../../errors.js';
import { quotedIdentifier, quotedString } from '../../base/sql.js';
import { duckdbType } from '../../schema/render-types.js';
import { carrierStructType, compileSqlValidator, rootFieldColumns, typedColumnSql } from '../../schema/sql-validator.js';
import type { Field, TableSpec } from '../../schema/types.js';
import type { WritePlan } from './memory.js';

/**
 * The DuckDB half of compaction: parse the staged records, validate them with the SQL compiled
 * from the schema, type them exactly as the Glue columns, drop duplicates and write one Parquet
 * file per event date. Every step is plain SQL over tables in the unit's own DuckDB database,
 * which spills to disk under its memory limit.
 */

export interface PipelineSettings {
  /** Arrival hour start and end (UTC ms): the clock-skew rule is relative to them. */
  hourStartMs: number;
  maxSkewMs: number;
  compression: 'ZSTD' | 'SNAPPY';
  rowGroupRows: number;
}

/** A staged line whose record DuckDB could not take: the JS slow path decides about it. */
export interface LineRef {
  s: number;
  o: number;
  p: number;
  n: number;
  kind: 'broken' | 'unconvertible' | 'empty_batch';
}

/** A record the SQL validator rejected. */
export interface RejectRef {
  s: number;
  o: number;
  p: number;
  n: number;
  e: number | null;
  skewed: boolean;
}

export interface DtFile {
  dt: string;
  file: string;
  rows: number;
}

const HOUR_MS = 3_600_000;

/**
 * Map and list columns ride through the checked table and the sort as their JSON text and take
 * their Parquet type in the final COPY: DuckDB stores and sorts nested values at a cost (on the
 * benchmark hour the `attributes` MAP alone added ~1 CPU-second to loading the checked table).
 * The cast is the same TRY_CAST from JSON either way, on the same validated value.
 */
function carriedAsJson(column: Field): boolean {
  return column.type.kind === 'map' || column.type.kind === 'array';
}

/** A column's type in the sorted table: its sort ENUM, JSON text for maps and lists, else its Glue type. */
function sortedType(column: Field, enumType: string | undefined): string {
  return enumType ?? (carriedAsJson(column) ? 'VARCHAR' : duckdbType(column.type));
}

/** A column's value as written to Parquet, from the sorted table. */
function writtenColumnSql(column: Field, enumType: string | undefined): string {
  const name = quotedIdentifier(column.name);
  if (enumType) return `CAST(${name} AS VARCHAR) AS ${name}`;
  if (carriedAsJson(column)) return `TRY_CAST(CAST(${name} AS JSON) AS ${duckdbType(column.type)}) AS ${name}`;
  return name;
}

/** Largest staged line DuckDB accepts: a Firehose record is at most 1,000 KiB, plus the wrapper. */
export const MAX_STAGED_LINE_BYTES = 2 * 1024 * 1024;

/** Columns of a staged line as DuckDB reads them (see staging.ts for the line format). */
function stageColumns(spec: TableSpec): string {
  const carrier = carrierStructType(spec);
  return `{s: 'UINTEGER', o: 'UBIGINT', p: 'UBIGINT', n: 'UBIGINT', e: 'INTEGER', x: 'INTEGER', w: 'VARCHAR', u: 'VARCHAR[]', wa: 'VARCHAR[]', ua: 'VARCHAR[][]', r: ${quotedString(carrier)}, a: ${quotedString(`${carrier}[]`)}}`;
}

function readStage(spec: TableSpec, files: string[]): string {
  const list = `[${files.map(quotedString).join(', ')}]`;
  // A malformed line becomes a row of NULLs (ignore_errors): found and explained later, never dropped.
  return `read_json(${list}, format = 'newline_delimited', ignore_errors = true, maximum_object_size = ${MAX_STAGED_LINE_BYTES}, columns = ${stageColumns(spec)})`;
}

/** SQL that turns staged lines into one row per record with validity, skew, unknown keys and typed columns. */
export function checkedSelect(spec: TableSpec, files: string[], settings: PipelineSettings): string {
  const root = rootFieldColumns(spec, 'm', 'wit');
  const validator = compileSqlValidator(spec, 'm', 'unk', root.fields);
  if (validator.unsupported.length) {
    throw new ClicklakeError(
      'schema_not_compactable',
      `${spec.source}: the compaction fast path cannot check ${validator.unsupported.join('; ')} — simplify these keywords (see README, "How compaction works")`,
      { unsupported: validator.unsupported },
    );
  }
  const bad = validator.checks.map((c) => `COALESCE(${c.sql}, FALSE)`).join('\n    OR ');
  // Maps and lists stay JSON text until the Parquet write (see carriedAsJson).
  const typed = spec.columns.map((c) => `${typedColumnSql(carriedAsJson(c) ? { ...c, type: { kind: 'json' } } : c, 'm', 'unk', root.fields)} AS ${quotedIdentifier(c.name)}`).join(',\n    ');
  const [values, types, derived] = root.layers;
  const eventTime = quotedIdentifier(spec.eventTimeColumn);
  const lo = `make_timestamp(${(settings.hourStartMs - settings.maxSkewMs) * 1000})`;
  const hi = `make_timestamp(${(settings.hourStartMs + HOUR_MS + settings.maxSkewMs) * 1000})`;
  // One list per line: the event, the events of a batch, or one NULL for a line DuckDB could not take.
  const pick = (one: string, many: string, none: string): string => `CASE WHEN x IS NOT NULL THEN [${none}] WHEN r IS NOT NULL THEN [${one}] WHEN len(a) > 0 THEN ${many} ELSE [${none}] END`;
  return `
WITH lines AS (
  SELECT s, o, p, n, e, x, r, a,
    -- The element index comes from the same list that is unnested, so both expand alike.
    CAST(generate_subscripts(${pick('r', 'a', 'NULL')}, 1) - 1 AS INTEGER) AS idx,
    CASE WHEN x IS NULL AND r IS NULL AND len(a) > 0 THEN NULL ELSE e END AS e0,
    unnest(${pick('r', 'a', 'NULL')}) AS m,
    unnest(${pick('w', 'wa', 'NULL::VARCHAR')}) AS wit,
    unnest(${pick('u', 'COALESCE(ua, list_transform(a, _ -> NULL::VARCHAR[]))', 'NULL::VARCHAR[]')}) AS unk,
    CASE WHEN x IS NOT NULL THEN 'unconvertible' WHEN r IS NOT NULL OR len(a) > 0 THEN 'event' WHEN s IS NULL THEN 'broken' WHEN a IS NOT NULL THEN 'empty_batch' ELSE 'unconvertible' END AS kind
  FROM ${readStage(spec, files)}
),
ev AS (SELECT s, o, p, n, CASE WHEN x IS NULL AND r IS NULL AND len(a) > 0 THEN idx ELSE e0 END AS e, m, wit, unk, kind FROM lines),
v AS (SELECT s, o, p, n, e, kind, wit, COALESCE(unk, []::VARCHAR[]) AS unk, ${values.join(', ')} FROM ev),
t AS (SELECT *, ${types.join(', ')} FROM v),
d AS (SELECT *, ${derived.join(', ')} FROM t),
typed AS (
  SELECT s, o, p, n, e, kind,
    kind <> 'event' OR ${bad} AS bad,
    unk AS unknown,
    ${typed}
  FROM d
)
SELECT *,
  COALESCE(${eventTime} < ${lo} OR ${eventTime} >= ${hi}, FALSE) AS skewed,
  strftime(${eventTime}, '%Y-%m-%d') AS dt,
  FALSE AS duplicate
FROM typed`;
}

const num = (v: unknown): number => (v === null || v === undefined ? 0 : Number(v));

async function rows(conn: DuckDBConnection, sql: string): Promise<Record<string, unknown>[]> {
  return (await conn.runAndReadAll(sql)).getRowObjectsJS() as Record<string, unknown>[];
}

/** Loads staged files into the `checked` table (created on first call, appended after). */
export async function loadChecked(conn: DuckDBConnection, spec: TableSpec, files: string[], settings: PipelineSettings, append: boolean): Promise<void> {
  const select = checkedSelect(spec, files, settings);
  await conn.run(append ? `INSERT INTO checked ${select}` : `CREATE TABLE checked AS ${select}`);
}

/** Lines DuckDB could not turn into records (the JS slow path explains or rescues them). */
export async function findProblemLines(conn: DuckDBConnection, stageFile: string): Promise<LineRef[]> {
  const found = await rows(conn, `SELECT s, o, p, n, kind FROM checked WHERE kind IN ('unconvertible', 'empty_batch') ORDER BY s, o`);
  const refs: LineRef[] = found.map((r) => ({ s: num(r['s']), o: num(r['o']), p: num(r['p']), n: num(r['n']), kind: r['kind'] as LineRef['kind'] }));
  const broken = num((await rows(conn, `SELECT count(*) AS c FROM checked WHERE kind = 'broken'`))[0]?.['c']);
  if (broken > 0) {
    // Lines DuckDB could not read lose their wrapper fields: read every line back as text, take
    // the (s, o) from the wrapper we wrote, and keep those with no row of their own.
    const lines = await rows(
      conn,
      `WITH l AS (
         SELECT line, TRY_CAST(regexp_extract(line, '^\\{"s":(\\d+),', 1) AS UINTEGER) AS s, TRY_CAST(regexp_extract(line, '^\\{"s":\\d+,"o":(\\d+),', 1) AS UBIGINT) AS o
         FROM read_csv(${quotedString(stageFile)}, columns = {'line': 'VARCHAR'}, delim = chr(1), quote = '', escape = '', header = false, auto_detect = false, strict_mode = false, null_padding = true)
       )
       SELECT line FROM l WHERE NOT EXISTS (SELECT 1 FROM checked c WHERE c.s = l.s AND c.o = l.o AND c.kind <> 'broken')`,
    );
    for (const { line } of lines) {
      const m = /^\{"s":(\d+),"o":(\d+),"p":(\d+),"n":(\d+),/.exec(String(line));
      if (m) refs.push({ s: Number(m[1]), o: Number(m[2]), p: Number(m[3]), n: Number(m[4]), kind: 'broken' });
    }
    const found = refs.filter((r) => r.kind === 'broken').length;
    if (found !== broken) {
      throw new ClicklakeError('internal_staging_mismatch', `DuckDB skipped ${broken} staged line(s) but ${found} could be found again; refusing to continue rather than lose records`, { broken, found });
    }
  }
  return refs;
}

export async function rejectedRecords(conn: DuckDBConnection): Promise<RejectRef[]> {
  const found = await rows(conn, `SELECT s, o, p, n, e, skewed FROM checked WHERE kind = 'event' AND (bad OR skewed) ORDER BY s, o, e`);
  return found.map((r) => ({ s: num(r['s']), o: num(r['o']), p: num(r['p']), n: num(r['n']), e: r['e'] === null ? null : num(r['e']), skewed: r['skewed'] === true }));
}

export interface DedupeResult {
  valid: number;
  unique: number;
  dts: Array<{ dt: string; rows: number }>;
}

/**
 * Keeps the first record per event id by (event time, source object, offset, element). Only
 * ids seen more than once are ranked, so the common case costs one counting aggregate; every
 * step spills to disk under the memory limit.
 */
export async function dedupe(conn: DuckDBConnection, spec: TableSpec): Promise<DedupeResult> {
  const id = quotedIdentifier(spec.eventIdColumn);
  const time = quotedIdentifier(spec.eventTimeColumn);
  const valid = `kind = 'event' AND NOT bad AND NOT skewed`;
  // Counting per id is a fixed-size aggregate (it spills); only ids seen twice are then ranked.
  await conn.run(`CREATE TABLE dup_ids AS SELECT ${id} AS id FROM checked WHERE ${valid} GROUP BY ${id} HAVING count(*) > 1`);
  await conn.run(`CREATE TABLE dropped AS
    SELECT s, o, COALESCE(e, -1) AS e FROM (
      SELECT s, o, e, row_number() OVER (PARTITION BY ${id} ORDER BY ${time}, s, o, e NULLS FIRST) AS rank
      FROM checked WHERE ${valid} AND ${id} IN (SELECT id FROM dup_ids)
    ) WHERE rank > 1`);
  // Marking the few dropped rows costs almost nothing; filtering a join in the final sort did.
  await conn.run(`UPDATE checked SET duplicate = TRUE FROM dropped d WHERE checked.s = d.s AND checked.o = d.o AND COALESCE(checked.e, -1) = d.e`);
  await conn.run(`CREATE VIEW good AS SELECT * FROM checked WHERE ${valid} AND NOT duplicate`);
  const validCount = num((await rows(conn, `SELECT count(*) AS c FROM checked WHERE ${valid}`))[0]?.['c']);
  const dts = await rows(conn, `SELECT dt, count(*) AS c FROM good GROUP BY dt ORDER BY dt`);
  const unique = dts.reduce((sum, r) => sum + num(r['c']), 0);
  return { valid: validCount, unique, dts: dts.map((r) => ({ dt: String(r['dt']), rows: num(r['c']) })) };
}

export async function unknownFieldCounts(conn: DuckDBConnection): Promise<Record<string, number>> {
  const found = await rows(conn, `SELECT key, count(*) AS c FROM (SELECT unnest(unknown) AS key FROM checked WHERE kind = 'event') GROUP BY key ORDER BY key`);
  return Object.fromEntries(found.map((r) => [String(r['key']), num(r['c'])]));
}

/**
 * A string column with at most this many distinct values is sorted as an ENUM (see
 * writeParquet). Kept small on purpose: ENUMs cost memory inside DuckDB's limit, and carrying
 * session_id and anonymous_id (85k distinct each in the benchmark hour) as ENUMs ran a 256 MB
 * limit out of memory.
 */
export const ENUM_MAX_DISTINCT = 4_096;

/**
 * String columns worth sorting as ENUMs: few distinct values (user agents, locales, menu
 * sections), not a sort key (an ENUM sorts by its position, not by its text). Returns the
 * column names with the type created for each.
 */
async function createSortEnums(conn: DuckDBConnection, spec: TableSpec, keys: string[]): Promise<Map<string, string>> {
  const candidates = spec.columns.filter((c) => c.type.kind === 'string' && !keys.includes(c.name));
  const enums = new Map<string, string>();
  if (!candidates.length) return enums;
  const counts = (await rows(conn, `SELECT ${candidates.map((c, i) => `approx_count_distinct(${quotedIdentifier(c.name)}) AS d${i}`).join(', ')} FROM good`))[0] ?? {};
  for (const [i, c] of candidates.entries()) {
    if (num(counts[`d${i}`]) > ENUM_MAX_DISTINCT) continue;
    const type = quotedIdentifier(`sort_enum_${i}`);
    const column = quotedIdentifier(c.name);
    // The members come from the column itself, so every value casts and casts back unchanged.
    await conn.run(`CREATE OR REPLACE TYPE ${type} AS ENUM (SELECT DISTINCT ${column} FROM good WHERE ${column} IS NOT NULL ORDER BY ${column})`);
    enums.set(c.name, type);
  }
  return enums;
}

/**
 * Writes one Parquet file per dt: every column cast to its Glue type, rows sorted by the
 * schema's sort keys (then event id, so the order is total and reruns are byte-identical).
 *
 * With room (`plan.direct`, a memory limit of DIRECT_WRITE_MIN_BYTES or more) one COPY sorts
 * straight into the writer. Under a small limit, two statements per dt, both measured on the
 * benchmark hour (bench/RESULTS.md):
 * - the sort goes into a table, on every thread. Low-cardinality strings go through it as
 *   ENUMs (1-4 bytes instead of, say, a 120-byte user agent): 2.8 s instead of 6.5 s. Sorting
 *   into a table stays inside DuckDB's memory limit;
 * - the Parquet file is written from that table, in its order, on `plan.write` threads, with the
 *   ENUMs cast back to text. Sorting straight into the Parquet writer held ~170 MB beyond the
 *   limit, and each extra writer thread holds its own row groups outside it.
 * All three give the same bytes (test/compaction-write-plans.test.ts).
 */
export async function writeParquet(conn: DuckDBConnection, spec: TableSpec, dts: Array<{ dt: string; rows: number }>, dir: string, settings: PipelineSettings, plan: WritePlan): Promise<DtFile[]> {
  const keys = [...spec.sortColumns, spec.eventIdColumn];
  const order = keys.map(quotedIdentifier).join(', ');
  const options = `(FORMAT parquet, COMPRESSION ${settings.compression}, PARQUET_VERSION V1, ROW_GROUP_SIZE ${settings.rowGroupRows})`;
  // Rows must reach the writer in the sorted order.
  await conn.run('SET preserve_insertion_order = true');
  const files: DtFile[] = [];
  if (plan.direct) {
    const written = spec.columns.map((c) => writtenColumnSql(c, undefined)).join(', ');
    await conn.run(`SET threads = ${plan.write}`);
    for (const { dt, rows: count } of dts) {
      const file = path.join(dir, `dt=${dt}.parquet`);
      await conn.run(`COPY (SELECT ${written} FROM good WHERE dt = ${quotedString(dt)} ORDER BY ${order}) TO ${quotedString(file)} ${options}`);
      files.push({ dt, file, rows: count });
    }
    return files;
  }
  const enums = await createSortEnums(conn, spec, keys);
  const carried = spec.columns.map((c) => `CAST(${quotedIdentifier(c.name)} AS ${sortedType(c, enums.get(c.name))}) AS ${quotedIdentifier(c.name)}`).join(', ');
  const written = spec.columns.map((c) => writtenColumnSql(c, enums.get(c.name))).join(', ');
  for (const { dt, rows: count } of dts) {
    const file = path.join(dir, `dt=${dt}.parquet`);
    await conn.run(`SET threads = ${plan.sort}`);
    await conn.run(`CREATE OR REPLACE TABLE sorted AS SELECT ${carried} FROM good WHERE dt = ${quotedString(dt)} ORDER BY ${order}`);
    await conn.run(`SET threads = ${plan.write}`);
    await conn.run(`COPY (SELECT ${written} FROM sorted) TO ${quotedString(file)} ${options}`);
    await conn.run('DROP TABLE sorted');
    files.push({ dt, file, rows: count });
  }
  return files;
}

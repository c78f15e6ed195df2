/**
 * Reading curated Parquet back in tests: with DuckDB (`read_parquet`, `parquet_schema`,
 * `parquet_metadata`) and with hyparquet, an independent reader.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parquetReadObjects, type AsyncBuffer } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import { withDuckDB } from '../../src/base/duckdb.js';
import { quotedIdentifier, quotedString } from '../../src/base/sql.js';
import type { Field, TableSpec } from '../../src/schema/types.js';
import type { JsonObject } from './firehose-corpus.js';

/** SQL that reads a column in the normalised form of `expectedValue` (see firehose-corpus.ts). */
function normalisedColumnSql(field: Field): string {
  const c = quotedIdentifier(field.name);
  switch (field.type.kind) {
    case 'timestamp':
      return `epoch_ms(${c})`;
    case 'int':
    case 'bigint':
      return `CAST(${c} AS VARCHAR)`;
    case 'struct':
    case 'map':
      return `CAST(to_json(${c}) AS VARCHAR)`;
    default:
      return c;
  }
}

/** Every row of a Parquet file, in file order, normalised like `expectedRow`. */
export async function readParquetRows(file: string, spec: TableSpec): Promise<JsonObject[]> {
  const columns = spec.columns.map((f) => `${normalisedColumnSql(f)} AS ${quotedIdentifier(f.name)}`).join(', ');
  const rows = await withDuckDB(async (conn) => (await conn.runAndReadAll(`SELECT ${columns} FROM read_parquet(${quotedString(file)})`)).getRowObjectsJS());
  return rows.map((r) =>
    Object.fromEntries(
      spec.columns.map((f) => {
        const v = r[f.name];
        if (v === null || v === undefined) return [f.name, null];
        if (f.type.kind === 'struct' || f.type.kind === 'map') return [f.name, JSON.parse(String(v))];
        if (typeof v === 'bigint') return [f.name, Number(v)];
        return [f.name, v];
      }),
    ),
  );
}

/** One row of DuckDB's `parquet_schema()`. */
export interface ParquetSchemaRow {
  name: string;
  type: string | null;
  convertedType: string | null;
  logicalType: string | null;
  numChildren: number | null;
  repetition: string | null;
}

export async function parquetSchemaRows(file: string): Promise<ParquetSchemaRow[]> {
  const rows = await withDuckDB(async (conn) =>
    (await conn.runAndReadAll(`SELECT name, type, converted_type, CAST(logical_type AS VARCHAR) AS logical_type, num_children, repetition_type FROM parquet_schema(${quotedString(file)})`)).getRowObjectsJS(),
  );
  const s = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));
  return rows.map((r) => ({
    name: String(r['name']),
    type: s(r['type']),
    convertedType: s(r['converted_type']),
    logicalType: s(r['logical_type']),
    numChildren: r['num_children'] === null ? null : Number(r['num_children']),
    repetition: s(r['repetition_type']),
  }));
}

/** The distinct compression codecs of a file's column chunks. */
export async function parquetCodecs(file: string): Promise<string[]> {
  const rows = await withDuckDB(async (conn) => (await conn.runAndReadAll(`SELECT DISTINCT compression FROM parquet_metadata(${quotedString(file)}) ORDER BY 1`)).getRowObjectsJS());
  return rows.map((r) => String(r['compression']));
}

/** Rows as hyparquet reads them (objects keyed by top-level column; ZSTD via hyparquet-compressors). */
export async function readWithHyparquet(bytes: Buffer): Promise<Array<Record<string, unknown>>> {
  const ab = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  const file: AsyncBuffer = { byteLength: ab.byteLength, slice: (start, end) => ab.slice(start, end) };
  return parquetReadObjects({ file, compressors, rowFormat: 'object' });
}

/** Writes bytes fetched from a store to a local file DuckDB can read. */
export async function localCopy(dir: string, name: string, bytes: Buffer): Promise<string> {
  const file = path.join(dir, name.replace(/[^A-Za-z0-9_.=-]/g, '_'));
  await writeFile(file, bytes);
  return file;
}

/**
 * The Parquet compaction writes is what Athena expects from the Glue table: every column's
 * physical/logical type is one of the allowed encodings of its Glue type (DESIGN.md, "Athena
 * compatibility"), no type Athena misreads is ever written, and the codec is the configured one.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compactionContext } from '../src/compaction/context.js';
import { compactUnit } from '../src/compaction/unit.js';
import { curatedTableInput } from '../src/catalog/table-input.js';
import { resolveSettings } from '../src/config/settings.js';
import { withDuckDB } from '../src/base/duckdb.js';
import { quotedString } from '../src/base/sql.js';
import { loadTable } from '../src/schema/load.js';
import type { TableSpec } from '../src/schema/types.js';
import { openStore } from '../src/storage/open.js';
import { buildCorpus, H1, H2 } from './support/compaction-scenarios.js';
import { parquetCodecs, parquetSchemaRows, type ParquetSchemaRow } from './support/parquet-read.js';

/** A Glue type string parsed, independently of how we render it. */
type GlueType = { kind: 'scalar'; name: string } | { kind: 'struct'; fields: Array<{ name: string; type: GlueType }> } | { kind: 'map'; key: GlueType; value: GlueType } | { kind: 'array'; element: GlueType };

function parseGlueType(text: string): GlueType {
  let i = 0;
  const word = (): string => {
    const m = /^[a-z0-9_]+/i.exec(text.slice(i));
    if (!m) throw new Error(`bad Glue type at ${i}: ${text}`);
    i += m[0].length;
    return m[0];
  };
  const eat = (c: string): void => {
    if (text[i] !== c) throw new Error(`expected ${c} at ${i}: ${text}`);
    i++;
  };
  const type = (): GlueType => {
    const name = word().toLowerCase();
    if (name === 'struct') {
      eat('<');
      const fields: Array<{ name: string; type: GlueType }> = [];
      for (;;) {
        const field = word();
        eat(':');
        fields.push({ name: field, type: type() });
        if (text[i] === ',') i++;
        else break;
      }
      eat('>');
      return { kind: 'struct', fields };
    }
    if (name === 'map') {
      eat('<');
      const key = type();
      eat(',');
      const value = type();
      eat('>');
      return { kind: 'map', key, value };
    }
    if (name === 'array') {
      eat('<');
      const element = type();
      eat('>');
      return { kind: 'array', element };
    }
    return { kind: 'scalar', name };
  };
  const t = type();
  if (i !== text.length) throw new Error(`trailing text in Glue type: ${text}`);
  return t;
}

interface SchemaNode extends ParquetSchemaRow {
  children: SchemaNode[];
}

/** parquet_schema() rows (pre-order, with child counts) as a tree. */
function schemaTree(rows: ParquetSchemaRow[]): SchemaNode {
  let i = 0;
  const node = (): SchemaNode => {
    const row = rows[i++]!;
    const children = Array.from({ length: row.numChildren ?? 0 }, () => node());
    return { ...row, children };
  };
  const root = node();
  expect(i).toBe(rows.length);
  return root;
}

/** Allowed Parquet encodings of each Glue scalar: physical type, and the logical/converted annotation. */
const SCALARS: Record<string, (n: SchemaNode) => boolean> = {
  string: (n) => n.type === 'BYTE_ARRAY' && (n.convertedType === 'UTF8' || /StringType/.test(n.logicalType ?? '')),
  // Athena engine v3 reads millisecond timestamps; Trino shifts isAdjustedToUTC=true into its zone.
  timestamp: (n) =>
    n.type === 'INT64' &&
    (n.convertedType === 'TIMESTAMP_MILLIS' || n.convertedType === null) &&
    (n.logicalType === null ? n.convertedType === 'TIMESTAMP_MILLIS' : /isAdjustedToUTC=(0|false)/.test(n.logicalType) && /MILLIS=MilliSeconds\(\)/.test(n.logicalType) && /MICROS=<null>/.test(n.logicalType) && /NANOS=<null>/.test(n.logicalType)),
  date: (n) => n.type === 'INT32' && (n.convertedType === 'DATE' || /DateType/.test(n.logicalType ?? '')),
  // Declaring `int` over INT64 data fails at query time.
  int: (n) => n.type === 'INT32' && (n.convertedType === null || n.convertedType === 'INT_32'),
  bigint: (n) => (n.type === 'INT64' || n.type === 'INT32') && (n.convertedType === null || n.convertedType === 'INT_64' || n.convertedType === 'INT_32'),
  double: (n) => n.type === 'DOUBLE' && n.convertedType === null,
  boolean: (n) => n.type === 'BOOLEAN',
};

/** Every mismatch between a Glue type and the Parquet node that stores it. */
function mismatches(glue: GlueType, node: SchemaNode, where: string): string[] {
  const bad = (why: string): string[] => [`${where}: ${why} (parquet ${JSON.stringify({ type: node.type, convertedType: node.convertedType, logicalType: node.logicalType })})`];
  switch (glue.kind) {
    case 'scalar': {
      const ok = SCALARS[glue.name];
      if (!ok) return bad(`no allowed Parquet encoding listed for Glue type ${glue.name}`);
      if (node.children.length) return bad(`Glue ${glue.name} stored as a group`);
      return ok(node) ? [] : bad(`not an allowed encoding of Glue ${glue.name}`);
    }
    case 'struct': {
      if (node.type !== null || node.convertedType !== null) return bad('a struct must be a plain group');
      if (node.children.map((c) => c.name).join(',') !== glue.fields.map((f) => f.name).join(',')) return bad(`struct members ${node.children.map((c) => c.name)} differ from Glue's ${glue.fields.map((f) => f.name)}`);
      return glue.fields.flatMap((f, i) => mismatches(f.type, node.children[i]!, `${where}.${f.name}`));
    }
    case 'map': {
      if (node.convertedType !== 'MAP' && !/MapType/.test(node.logicalType ?? '')) return bad('a map must be a MAP group');
      const kv = node.children[0];
      if (node.children.length !== 1 || !kv || kv.repetition !== 'REPEATED' || kv.children.length !== 2) return bad('a MAP holds one repeated key_value group of two fields');
      if (kv.children[0]!.repetition !== 'REQUIRED') return bad('map keys must be required');
      return [...mismatches(glue.key, kv.children[0]!, `${where}.key`), ...mismatches(glue.value, kv.children[1]!, `${where}.value`)];
    }
    case 'array': {
      if (node.convertedType !== 'LIST' && !/ListType/.test(node.logicalType ?? '')) return bad('an array must be a LIST group');
      const list = node.children[0];
      if (!list || list.repetition !== 'REPEATED' || list.children.length !== 1) return bad('a LIST holds one repeated group of one element');
      return mismatches(glue.element, list.children[0]!, `${where}.element`);
    }
  }
}

/** Types Athena misreads or refuses: never written, anywhere in the schema. */
function forbidden(rows: ParquetSchemaRow[]): string[] {
  return rows
    .filter(
      (r) =>
        r.type === 'INT96' ||
        r.type === 'FIXED_LEN_BYTE_ARRAY' ||
        /^(UINT_|TIME_|TIMESTAMP_MICROS|INTERVAL|DECIMAL)/.test(r.convertedType ?? '') ||
        /UUID|IntType\(bitWidth=\d+, isSigned=(0|false)\)|MICROS=MicroSeconds|NANOS=NanoSeconds|TimeType|Float16|DecimalType/.test(r.logicalType ?? ''),
    )
    .map((r) => `${r.name}: ${r.type} ${r.convertedType} ${r.logicalType}`);
}

let spec: TableSpec;
let work: string;

beforeAll(async () => {
  spec = await loadTable('click_events');
  work = await mkdtemp(path.join(tmpdir(), 'clicklake-parquet-types-'));
});
afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

/** Compacts the hand-made corpus into a fresh lake; the Parquet files written, as local paths. */
async function compactCorpus(compression: 'ZSTD' | 'SNAPPY'): Promise<string[]> {
  const dir = path.join(work, compression);
  const store = openStore(`file://${dir}`);
  await buildCorpus().upload(store);
  const ctx = compactionContext({ store, spec, settings: resolveSettings({}, { compression }), workDir: work });
  const files: string[] = [];
  for (const hour of [H1, H2]) for (const o of (await compactUnit(ctx, hour)).manifest.outputs) files.push(path.join(dir, o.key));
  expect(files.length).toBe(4); // H1 and H2 each touch two event dates
  return files;
}

describe('Parquet types of curated files', () => {
  let files: string[];
  beforeAll(async () => {
    files = await compactCorpus('ZSTD');
  });

  it('stores every Glue column in an allowed Parquet encoding, in Glue column order', async () => {
    const columns = curatedTableInput(spec, { bucket: 'lake-bucket' }).StorageDescriptor!.Columns!;
    expect(columns.length).toBe(spec.columns.length);
    for (const file of files) {
      const rows = await parquetSchemaRows(file);
      const root = schemaTree(rows);
      expect(root.children.map((c) => c.name)).toEqual(columns.map((c) => c.Name));
      const problems = columns.flatMap((c, i) => mismatches(parseGlueType(c.Type!), root.children[i]!, c.Name!));
      expect(problems).toEqual([]);
    }
  });

  it('writes no UUID, HUGEINT, unsigned, INT96, nanosecond/microsecond timestamp, TIME or INTERVAL type', async () => {
    for (const file of files) expect(forbidden(await parquetSchemaRows(file))).toEqual([]);
  });

  it('uses lowercase column names that never differ only by case', async () => {
    for (const file of files) {
      const names = (await parquetSchemaRows(file)).slice(1).map((r) => r.name);
      expect(names.every((n) => n === n.toLowerCase())).toBe(true);
      const top = schemaTree(await parquetSchemaRows(file)).children.map((c) => c.name);
      expect(new Set(top.map((n) => n.toLowerCase())).size).toBe(top.length);
    }
  });

  it('writes Parquet format version 1 with ZSTD by default, as the Glue table declares', async () => {
    const declared = curatedTableInput(spec, { bucket: 'lake-bucket' }).Parameters!['parquet.compression'];
    expect(declared).toBe('ZSTD');
    for (const file of files) {
      expect(await parquetCodecs(file)).toEqual(['ZSTD']);
      const meta = await withDuckDB(async (conn) => (await conn.runAndReadAll(`SELECT format_version FROM parquet_file_metadata(${quotedString(file)})`)).getRowObjectsJS());
      expect(Number(meta[0]!['format_version'])).toBe(1);
    }
  });

  it('writes SNAPPY when chosen, with the same types', async () => {
    const snappy = await compactCorpus('SNAPPY');
    expect(curatedTableInput(spec, { bucket: 'lake-bucket', compression: 'SNAPPY' }).Parameters!['parquet.compression']).toBe('SNAPPY');
    for (const [i, file] of snappy.entries()) {
      expect(await parquetCodecs(file)).toEqual(['SNAPPY']);
      const strip = (rows: ParquetSchemaRow[]) => rows.map(({ name, type, convertedType, logicalType, numChildren, repetition }) => ({ name, type, convertedType, logicalType, numChildren, repetition }));
      expect(strip(await parquetSchemaRows(file))).toEqual(strip(await parquetSchemaRows(files[i]!)));
    }
  });
});

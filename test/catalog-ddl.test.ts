import { fileURLToPath } from 'node:url';
import { HiveSQL } from 'dt-sql-parser';
import { beforeAll, describe, expect, it } from 'vitest';
import { ddlType, hiveString, renderCreateTable } from '../src/catalog/ddl.js';
import { curatedTableInput, rawTableInput, tableInputs } from '../src/catalog/table-input.js';
import { buildTableSpec, loadSchemaFile } from '../src/schema/load.js';
import type { TableSpec } from '../src/schema/types.js';

const SCHEMA_FILE = fileURLToPath(new URL('../schemas/click_event.schema.json', import.meta.url));

let spec: TableSpec;
beforeAll(async () => {
  spec = await loadSchemaFile(SCHEMA_FILE);
});

const hive = new HiveSQL();

/** Hive's reading of a single-quoted literal body: a backslash escapes the next character. */
const unescapeHive = (body: string): string => body.replace(/\\(.)/gs, '$1');
const LITERAL = String.raw`'((?:[^'\\]|\\.)*)'`;

/** The key/value pairs of a `(... 'k'='v', ...)` block that follows `keyword`. */
function propertiesAfter(sql: string, keyword: string): Record<string, string> {
  const start = sql.indexOf(`${keyword} (`);
  if (start < 0) throw new Error(`no ${keyword} in\n${sql}`);
  const block = sql.slice(start, sql.indexOf('\n)', start));
  const pairs = [...block.matchAll(new RegExp(`${LITERAL}=${LITERAL}`, 'g'))];
  return Object.fromEntries(pairs.map((m) => [unescapeHive(m[1]!), unescapeHive(m[2]!)]));
}

/** Column lines of the statement: name -> { type, comment }. */
function columnLines(sql: string): Array<{ name: string; type: string; comment?: string }> {
  const body = sql.slice(sql.indexOf('(\n') + 2, sql.indexOf('\n)'));
  return body.split(',\n').map((line) => {
    const m = new RegExp(`^  \`([^\`]+)\` (\\S+)(?: COMMENT ${LITERAL})?$`, 's').exec(line);
    if (!m) throw new Error(`unexpected column line: ${line}`);
    return m[3] === undefined ? { name: m[1]!, type: m[2]! } : { name: m[1]!, type: m[2]!, comment: unescapeHive(m[3]) };
  });
}

const NESTED_SCHEMA = {
  type: 'object',
  description: "Owner's \"test\" table with a back\\slash",
  'x-lake': { table: 'nested_events', eventTime: 'eventTime', eventId: 'eventId', partitionStart: '2024-06-01', sortKeys: ['eventTime'] },
  required: ['eventId', 'eventTime'],
  properties: {
    eventId: { type: 'string', description: "the event's id" },
    eventTime: { type: 'string', format: 'date-time' },
    position: { type: ['integer', 'null'], minimum: 0, maximum: 10, description: "it's 'quoted' twice" },
    date: { type: 'string', format: 'date', description: 'C:\\path\\n is not a newline' },
    timestamp: { type: 'string', format: 'date-time' },
    user: {
      type: 'object',
      properties: {
        date: { type: 'string', format: 'date' },
        order: { type: 'array', items: { type: 'object', properties: { table: { type: 'integer' }, map: { type: 'object', additionalProperties: { type: 'number' } } } } },
      },
    },
    tags: { type: 'object', additionalProperties: { type: 'array', items: { type: 'string' } } },
    cartItems: { type: 'array', items: { type: 'object', properties: { skuId: { type: 'string' }, qty: { type: 'integer', minimum: 1, maximum: 9 } } } },
    payload: { oneOf: [{ type: 'string' }, { type: 'object' }] },
  },
};

describe('Athena DDL of the shipped schema', () => {
  it('both statements parse with the Hive grammar', () => {
    for (const input of tableInputs(spec, { bucket: 'my-lake' })) {
      const sql = renderCreateTable(input, 'clicklake');
      expect(hive.validate(sql), sql).toEqual([]);
    }
  });

  it('raw table: OpenX SerDe, text formats, hourly projection', () => {
    const sql = renderCreateTable(rawTableInput(spec, { bucket: 'my-lake' }), 'clicklake');
    expect(sql.startsWith('CREATE EXTERNAL TABLE IF NOT EXISTS `clicklake`.`click_events_raw` (\n')).toBe(true);
    expect(sql).toContain("\nROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe'\n");
    expect(sql).toContain("\nSTORED AS INPUTFORMAT 'org.apache.hadoop.mapred.TextInputFormat'\nOUTPUTFORMAT 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat'\n");
    expect(sql).toContain('\nPARTITIONED BY (`dt` string)\n');
    expect(sql).toContain("\nLOCATION 's3://my-lake/raw/click_events/'\n");
    expect(propertiesAfter(sql, 'WITH SERDEPROPERTIES')).toEqual({ 'ignore.malformed.json': 'true' });
    expect(propertiesAfter(sql, 'TBLPROPERTIES')).toEqual({
      classification: 'json',
      'projection.enabled': 'true',
      'projection.dt.type': 'date',
      'projection.dt.format': 'yyyy/MM/dd/HH',
      'projection.dt.range': '2024/01/01/00,NOW',
      'projection.dt.interval': '1',
      'projection.dt.interval.unit': 'HOURS',
      'storage.location.template': 's3://my-lake/raw/click_events/${dt}/',
    });
    expect(sql).not.toContain("'EXTERNAL'");
    expect(sql.endsWith('\n);')).toBe(true);
  });

  it('curated table: STORED AS PARQUET, daily projection, compression', () => {
    const sql = renderCreateTable(curatedTableInput(spec, { bucket: 'my-lake', rootPrefix: 'lake', compression: 'SNAPPY' }));
    expect(sql.startsWith('CREATE EXTERNAL TABLE IF NOT EXISTS `click_events` (\n')).toBe(true);
    expect(sql).toContain('\nSTORED AS PARQUET\n');
    expect(sql).not.toContain('ROW FORMAT');
    expect(sql).not.toContain('SERDEPROPERTIES');
    expect(sql).toContain("\nLOCATION 's3://my-lake/lake/curated/click_events/'\n");
    expect(propertiesAfter(sql, 'TBLPROPERTIES')).toEqual({
      classification: 'parquet',
      'parquet.compression': 'SNAPPY',
      'projection.enabled': 'true',
      'projection.dt.type': 'date',
      'projection.dt.format': 'yyyy-MM-dd',
      'projection.dt.range': '2024-01-01,NOW',
      'projection.dt.interval': '1',
      'projection.dt.interval.unit': 'DAYS',
      'storage.location.template': 's3://my-lake/lake/curated/click_events/dt=${dt}/',
    });
    expect(hive.validate(sql)).toEqual([]);
  });

  it('lists every column of the TableInput, in order, backticked, with its type and comment', () => {
    for (const input of tableInputs(spec, { bucket: 'b' })) {
      const lines = columnLines(renderCreateTable(input));
      expect(lines).toEqual(input.StorageDescriptor!.Columns!.map((c) => (c.Comment ? { name: c.Name, type: ddlType(c.Type!), comment: c.Comment } : { name: c.Name, type: ddlType(c.Type!) })));
    }
    const sql = renderCreateTable(curatedTableInput(spec, { bucket: 'b' }));
    expect(sql).toContain('\n  `position` int COMMENT ');
    expect(sql).toContain('\n  `viewport` struct<`width`:int,`height`:int>,\n');
    expect(sql).toContain('\n  `attributes` map<string,string> COMMENT ');
  });
});

describe('Athena DDL of nested types and reserved words', () => {
  const nested = buildTableSpec(NESTED_SCHEMA, 'nested.schema.json');

  it('both statements parse with the Hive grammar', () => {
    for (const input of tableInputs(nested, { bucket: 'b' })) {
      const sql = renderCreateTable(input, 'analytics');
      expect(hive.validate(sql), sql).toEqual([]);
    }
  });

  it('backticks every column and struct field, and leaves map keys alone', () => {
    const sql = renderCreateTable(curatedTableInput(nested, { bucket: 'b' }));
    const types = Object.fromEntries(columnLines(sql).map((c) => [c.name, c.type]));
    expect(types).toEqual({
      event_id: 'string',
      event_time: 'timestamp',
      position: 'int',
      date: 'date',
      timestamp: 'timestamp',
      user: 'struct<`date`:date,`order`:array<struct<`table`:bigint,`map`:map<string,double>>>>',
      tags: 'map<string,array<string>>',
      cart_items: 'array<struct<`sku_id`:string,`qty`:int>>',
      payload: 'string',
    });
  });

  it('the raw table keeps nested dates as strings and maps camelCase names', () => {
    const sql = renderCreateTable(rawTableInput(nested, { bucket: 'b' }));
    expect(sql).toContain('\n  `user` struct<`date`:string,`order`:array<struct<`table`:bigint,`map`:map<string,double>>>>');
    expect(propertiesAfter(sql, 'WITH SERDEPROPERTIES')).toEqual({
      'ignore.malformed.json': 'true',
      'case.insensitive': 'false',
      'mapping.event_id': 'eventId',
      'mapping.event_time': 'eventTime',
      'mapping.cart_items': 'cartItems',
    });
  });

  it('escapes quotes and backslashes in comments the way Hive reads them back', () => {
    const input = curatedTableInput(nested, { bucket: 'b' });
    const sql = renderCreateTable(input);
    expect(sql).toContain("COMMENT 'it\\'s \\'quoted\\' twice'");
    expect(sql).toContain("COMMENT 'C:\\\\path\\\\n is not a newline'");
    // Doubled quotes would be two adjacent Hive literals, read back as "its".
    expect(sql).not.toContain("''");
    const comments = Object.fromEntries(columnLines(sql).filter((c) => c.comment !== undefined).map((c) => [c.name, c.comment]));
    expect(comments).toEqual({ event_id: "the event's id", position: "it's 'quoted' twice", date: 'C:\\path\\n is not a newline' });
    const tableComment = new RegExp(`\\nCOMMENT ${LITERAL}\\n`).exec(sql);
    expect(unescapeHive(tableComment![1]!)).toBe(input.Description);
    expect(input.Description).toBe("Owner's \"test\" table with a back\\slash");
    expect(hive.validate(sql)).toEqual([]);
  });
});

describe('quoting helpers', () => {
  it.each([
    ['plain', "'plain'"],
    ["it's", "'it\\'s'"],
    ['a\\b', "'a\\\\b'"],
    ["\\'", "'\\\\\\''"],
    ['${dt}', "'${dt}'"],
    ['', "''"],
  ])('hiveString(%j) = %s', (value, literal) => {
    expect(hiveString(value)).toBe(literal);
    expect(unescapeHive(literal.slice(1, -1))).toBe(value);
  });

  it.each([
    ['string', 'string'],
    ['map<string,int>', 'map<string,int>'],
    ['array<map<string,bigint>>', 'array<map<string,bigint>>'],
    ['struct<a:int>', 'struct<`a`:int>'],
    ['struct<date:int,b:struct<c:string,d:map<string,struct<e:int>>>>', 'struct<`date`:int,`b`:struct<`c`:string,`d`:map<string,struct<`e`:int>>>>'],
    ['map<string,struct<x:int,y:array<struct<z:double>>>>', 'map<string,struct<`x`:int,`y`:array<struct<`z`:double>>>>'],
  ])('ddlType(%s) = %s', (glue, ddl) => {
    expect(ddlType(glue)).toBe(ddl);
  });
});

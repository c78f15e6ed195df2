import { HiveSQL } from 'dt-sql-parser';
import { describe, expect, it } from 'vitest';
import { renderCreateTable } from '../src/catalog/ddl.js';
import { curatedTableInput, rawTableInput } from '../src/catalog/table-input.js';
import { buildTableSpec } from '../src/schema/load.js';
import { isReservedWord, RESERVED_WORDS, toSnakeCase } from '../src/schema/names.js';

function schemaWith(properties: Record<string, unknown>): Record<string, unknown> {
  return {
    type: 'object',
    'x-lake': { table: 'clicks', eventTime: 'eventTime', eventId: 'eventId', partitionStart: '2024-01-01', sortKeys: ['eventTime'] },
    required: ['eventId', 'eventTime'],
    properties: { eventId: { type: 'string' }, eventTime: { type: 'string', format: 'date-time' }, ...properties },
  };
}

describe('toSnakeCase', () => {
  it.each([
    ['scrollDepthPct', 'scroll_depth_pct'],
    ['pageURL', 'page_url'],
    ['HTTPStatus', 'http_status'],
    ['item-name', 'item_name'],
    ['Item-Name', 'item_name'],
    ['a.b', 'a_b'],
    ['already_snake', 'already_snake'],
    ['userID2', 'user_id2'],
    ['version2Beta', 'version2_beta'],
    ['getHTTPResponseCode', 'get_http_response_code'],
    ['ABC', 'abc'],
    ['  spaced  out ', 'spaced_out'],
    ['__private__', 'private'],
    ['a--b..c', 'a_b_c'],
    ['price€', 'price'],
    ['---', ''],
  ])('%s -> %s', (input, expected) => {
    expect(toSnakeCase(input)).toBe(expected);
  });

  it('is idempotent', () => {
    for (const name of ['scrollDepthPct', 'pageURL', 'HTTPStatus', 'item-name', 'a.b']) {
      expect(toSnakeCase(toSnakeCase(name))).toBe(toSnakeCase(name));
    }
  });
});

describe('reserved words', () => {
  it('knows the words Athena DDL and Trino DML reserve', () => {
    for (const word of ['position', 'date', 'timestamp', 'user', 'table', 'order', 'partition', 'map', 'array', 'current_date']) {
      expect(isReservedWord(word), word).toBe(true);
    }
    expect(isReservedWord('POSITION')).toBe(true);
    for (const word of ['event_time', 'section', 'item_id', 'viewport', 'locale']) expect(isReservedWord(word), word).toBe(false);
    for (const word of RESERVED_WORDS) expect(word).toBe(word.toLowerCase());
  });

  it('quotes reserved-word columns with backticks in both tables’ DDL, and the DDL parses', () => {
    const spec = buildTableSpec(
      schemaWith({
        position: { type: 'integer', minimum: 0, maximum: 10 },
        date: { type: 'string', format: 'date' },
        timestamp: { type: 'string', format: 'date-time' },
        user: { type: 'object', properties: { date: { type: 'string' }, order: { type: 'integer' } } },
      }),
    );
    const target = { bucket: 'b' };
    const curated = renderCreateTable(curatedTableInput(spec, target), 'db');
    const raw = renderCreateTable(rawTableInput(spec, target), 'db');
    expect(curated).toContain('\n  `position` int');
    expect(curated).toContain('\n  `date` date');
    expect(curated).toContain('\n  `timestamp` timestamp');
    expect(curated).toContain('\n  `user` struct<`date`:string,`order`:bigint>');
    // The raw table keeps timestamps and dates as strings.
    expect(raw).toContain('\n  `date` string');
    expect(raw).toContain('\n  `timestamp` string');
    for (const sql of [curated, raw]) {
      expect(sql).not.toMatch(/[(,]\s*(position|date|timestamp|user) /);
      expect(new HiveSQL().validate(sql)).toEqual([]);
    }
  });
});

describe('column names from property names', () => {
  const spec = buildTableSpec(
    schemaWith({
      scrollDepthPct: { type: ['integer', 'null'], minimum: 0, maximum: 100 },
      pageURL: { type: 'string' },
      HTTPStatus: { type: 'integer', minimum: 100, maximum: 599 },
      'item-name': { type: 'string' },
      'a.b': { type: 'string' },
      locale: { type: 'string' },
    }),
  );

  it('every column is the snake_case of its property, and the model remembers the JSON name', () => {
    expect(spec.columns.map((c) => [c.jsonName, c.name])).toEqual([
      ['eventId', 'event_id'],
      ['eventTime', 'event_time'],
      ['scrollDepthPct', 'scroll_depth_pct'],
      ['pageURL', 'page_url'],
      ['HTTPStatus', 'http_status'],
      ['item-name', 'item_name'],
      ['a.b', 'a_b'],
      ['locale', 'locale'],
    ]);
    expect(spec.eventTimeColumn).toBe('event_time');
    expect(spec.eventIdColumn).toBe('event_id');
    expect(spec.sortColumns).toEqual(['event_time']);
  });

  it('the raw table maps exactly the columns whose JSON name differs, case-sensitively', () => {
    const serde = rawTableInput(spec, { bucket: 'b' }).StorageDescriptor!.SerdeInfo!.Parameters!;
    expect(serde).toEqual({
      'ignore.malformed.json': 'true',
      'case.insensitive': 'false',
      'mapping.event_id': 'eventId',
      'mapping.event_time': 'eventTime',
      'mapping.scroll_depth_pct': 'scrollDepthPct',
      'mapping.page_url': 'pageURL',
      'mapping.http_status': 'HTTPStatus',
      'mapping.item_name': 'item-name',
      'mapping.a_b': 'a.b',
    });
    const ddl = renderCreateTable(rawTableInput(spec, { bucket: 'b' }));
    expect(ddl).toContain("'mapping.page_url'='pageURL'");
    expect(ddl).toContain("'case.insensitive'='false'");
    expect(new HiveSQL().validate(ddl)).toEqual([]);
  });

  it('a schema whose names are already columns gets no mapping and keeps the SerDe case-insensitive', () => {
    const plain = buildTableSpec({
      ...schemaWith({}),
      'x-lake': { table: 'plain', eventTime: 'ts', eventId: 'id', partitionStart: '2024-01-01', sortKeys: [] },
      required: ['id', 'ts'],
      properties: { id: { type: 'string' }, ts: { type: 'string', format: 'date-time' } },
    });
    expect(rawTableInput(plain, { bucket: 'b' }).StorageDescriptor!.SerdeInfo!.Parameters).toEqual({ 'ignore.malformed.json': 'true' });
  });

  it('the curated (Parquet) table has no mappings: its columns are written under their column names', () => {
    const params = curatedTableInput(spec, { bucket: 'b' }).StorageDescriptor!.SerdeInfo!.Parameters!;
    expect(Object.keys(params).some((k) => k.startsWith('mapping.'))).toBe(false);
  });
});

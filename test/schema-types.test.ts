import { describe, expect, it } from 'vitest';
import { buildTableSpec } from '../src/schema/load.js';
import { duckdbType, glueType } from '../src/schema/render-types.js';
import type { Field, LakeType } from '../src/schema/types.js';

/**
 * DESIGN.md "Type mapping", row by row: each case is a one-property schema that goes through the
 * whole path (lint, then the column model), and is checked as LakeType, Glue type and DuckDB type.
 */

/** A minimal lake schema around extra properties (`id` and `ts` are the required envelope). */
function schemaWith(properties: Record<string, unknown>, required: string[] = []): Record<string, unknown> {
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    type: 'object',
    'x-lake': { table: 't', eventTime: 'ts', eventId: 'id', partitionStart: '2024-01-01', sortKeys: ['ts'] },
    required: ['id', 'ts', ...required],
    properties: { id: { type: 'string' }, ts: { type: 'string', format: 'date-time' }, ...properties },
  };
}

/** The column the property `p` becomes. */
function columnOf(schema: Record<string, unknown>, required = false): Field {
  const spec = buildTableSpec(schemaWith({ p: schema }, required ? ['p'] : []));
  const field = spec.columns.find((c) => c.jsonName === 'p');
  if (!field) throw new Error('no column p');
  return field;
}

const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;

interface Row {
  what: string;
  schema: Record<string, unknown>;
  type: LakeType;
  glue: string;
  duckdb: string;
}

const scalarRows: Row[] = [
  { what: 'string', schema: { type: 'string' }, type: { kind: 'string' }, glue: 'string', duckdb: 'VARCHAR' },
  { what: 'string with minLength', schema: { type: 'string', minLength: 1 }, type: { kind: 'string' }, glue: 'string', duckdb: 'VARCHAR' },
  { what: 'string format uuid (never a UUID column)', schema: { type: 'string', format: 'uuid' }, type: { kind: 'string' }, glue: 'string', duckdb: 'VARCHAR' },
  { what: 'string format date-time', schema: { type: 'string', format: 'date-time' }, type: { kind: 'timestamp' }, glue: 'timestamp', duckdb: 'TIMESTAMP_MS' },
  { what: 'string format date', schema: { type: 'string', format: 'date' }, type: { kind: 'date' }, glue: 'date', duckdb: 'DATE' },
  { what: 'integer 0..100', schema: { type: 'integer', minimum: 0, maximum: 100 }, type: { kind: 'int' }, glue: 'int', duckdb: 'INTEGER' },
  { what: 'integer exactly the int32 range', schema: { type: 'integer', minimum: INT32_MIN, maximum: INT32_MAX }, type: { kind: 'int' }, glue: 'int', duckdb: 'INTEGER' },
  { what: 'integer with only a minimum', schema: { type: 'integer', minimum: 0 }, type: { kind: 'bigint' }, glue: 'bigint', duckdb: 'BIGINT' },
  { what: 'integer with only a maximum', schema: { type: 'integer', maximum: 10 }, type: { kind: 'bigint' }, glue: 'bigint', duckdb: 'BIGINT' },
  { what: 'integer with no bounds', schema: { type: 'integer' }, type: { kind: 'bigint' }, glue: 'bigint', duckdb: 'BIGINT' },
  { what: 'integer maximum one past int32', schema: { type: 'integer', minimum: 0, maximum: INT32_MAX + 1 }, type: { kind: 'bigint' }, glue: 'bigint', duckdb: 'BIGINT' },
  { what: 'integer minimum one below int32', schema: { type: 'integer', minimum: INT32_MIN - 1, maximum: 0 }, type: { kind: 'bigint' }, glue: 'bigint', duckdb: 'BIGINT' },
  {
    what: 'integer exclusive bounds just outside int32 (allowed values fit)',
    schema: { type: 'integer', exclusiveMinimum: INT32_MIN - 1, exclusiveMaximum: INT32_MAX + 1 },
    type: { kind: 'int' },
    glue: 'int',
    duckdb: 'INTEGER',
  },
  {
    what: 'integer exclusiveMaximum two past int32',
    schema: { type: 'integer', exclusiveMinimum: 0, exclusiveMaximum: INT32_MAX + 2 },
    type: { kind: 'bigint' },
    glue: 'bigint',
    duckdb: 'BIGINT',
  },
  {
    what: 'integer exclusiveMinimum two below int32',
    schema: { type: 'integer', exclusiveMinimum: INT32_MIN - 2, maximum: 0 },
    type: { kind: 'bigint' },
    glue: 'bigint',
    duckdb: 'BIGINT',
  },
  {
    what: 'integer whose minimum is wide but exclusiveMinimum is tighter',
    schema: { type: 'integer', minimum: -1e12, exclusiveMinimum: -1, maximum: 5 },
    type: { kind: 'int' },
    glue: 'int',
    duckdb: 'INTEGER',
  },
  { what: 'integer with only an exclusiveMinimum', schema: { type: 'integer', exclusiveMinimum: 0 }, type: { kind: 'bigint' }, glue: 'bigint', duckdb: 'BIGINT' },
  { what: 'nullable integer 0..100', schema: { type: ['integer', 'null'], minimum: 0, maximum: 100 }, type: { kind: 'int' }, glue: 'int', duckdb: 'INTEGER' },
  { what: 'number', schema: { type: 'number' }, type: { kind: 'double' }, glue: 'double', duckdb: 'DOUBLE' },
  { what: 'number with bounds (still double)', schema: { type: 'number', minimum: 0, maximum: 1 }, type: { kind: 'double' }, glue: 'double', duckdb: 'DOUBLE' },
  { what: 'boolean', schema: { type: 'boolean' }, type: { kind: 'boolean' }, glue: 'boolean', duckdb: 'BOOLEAN' },
  { what: 'enum of strings', schema: { type: 'string', enum: ['a', 'b'] }, type: { kind: 'string' }, glue: 'string', duckdb: 'VARCHAR' },
  { what: 'enum of strings with no type', schema: { enum: ['a', 'b'] }, type: { kind: 'string' }, glue: 'string', duckdb: 'VARCHAR' },
  { what: 'oneOf', schema: { oneOf: [{ type: 'string' }, { type: 'integer' }] }, type: { kind: 'json' }, glue: 'string', duckdb: 'VARCHAR' },
  { what: 'anyOf', schema: { anyOf: [{ type: 'number' }, { type: 'boolean' }] }, type: { kind: 'json' }, glue: 'string', duckdb: 'VARCHAR' },
  { what: 'untyped', schema: {}, type: { kind: 'json' }, glue: 'string', duckdb: 'VARCHAR' },
  { what: 'untyped with a description', schema: { description: 'anything' }, type: { kind: 'json' }, glue: 'string', duckdb: 'VARCHAR' },
  { what: 'multi-type string|integer', schema: { type: ['string', 'integer'] }, type: { kind: 'json' }, glue: 'string', duckdb: 'VARCHAR' },
  { what: 'multi-type string|integer|null', schema: { type: ['string', 'integer', 'null'] }, type: { kind: 'json' }, glue: 'string', duckdb: 'VARCHAR' },
  { what: 'enum of mixed kinds', schema: { enum: ['a', 1] }, type: { kind: 'json' }, glue: 'string', duckdb: 'VARCHAR' },
  { what: 'object with neither properties nor additionalProperties', schema: { type: 'object' }, type: { kind: 'json' }, glue: 'string', duckdb: 'VARCHAR' },
  { what: 'array without items', schema: { type: 'array' }, type: { kind: 'json' }, glue: 'string', duckdb: 'VARCHAR' },
];

describe('type mapping: scalars, enums, JSON-text columns', () => {
  it.each(scalarRows)('$what -> $glue / $duckdb', ({ schema, type, glue, duckdb }) => {
    const field = columnOf(schema);
    expect(field.type).toEqual(type);
    expect(glueType(field.type)).toBe(glue);
    expect(duckdbType(field.type)).toBe(duckdb);
  });
});

describe('type mapping: objects, maps, arrays', () => {
  it('object with properties -> struct, in declaration order, children with their own nullability', () => {
    const field = columnOf({
      type: 'object',
      required: ['width', 'label'],
      properties: {
        width: { type: 'integer', minimum: 0, maximum: 100000 },
        label: { type: ['string', 'null'] },
        heightPx: { type: 'integer' },
      },
    });
    expect(glueType(field.type)).toBe('struct<width:int,label:string,height_px:bigint>');
    expect(duckdbType(field.type)).toBe('STRUCT("width" INTEGER, "label" VARCHAR, "height_px" BIGINT)');
    if (field.type.kind !== 'struct') throw new Error(`expected a struct, got ${field.type.kind}`);
    const byName = Object.fromEntries(field.type.fields.map((f) => [f.name, f]));
    expect(byName['width']).toMatchObject({ jsonName: 'width', nullable: false, pointer: '#/properties/p/properties/width' });
    // Required but allowing null: still nullable.
    expect(byName['label']).toMatchObject({ nullable: true });
    // Not required: nullable, and renamed to snake_case like a top-level column.
    expect(byName['height_px']).toMatchObject({ jsonName: 'heightPx', nullable: true, pointer: '#/properties/p/properties/heightPx' });
  });

  it('nested structs map recursively', () => {
    const field = columnOf({
      type: ['object', 'null'],
      properties: {
        device: {
          type: 'object',
          required: ['os'],
          properties: { os: { type: 'string' }, screen: { type: 'object', properties: { dpr: { type: 'number' }, touch: { type: 'boolean' } } } },
        },
      },
    });
    expect(glueType(field.type)).toBe('struct<device:struct<os:string,screen:struct<dpr:double,touch:boolean>>>');
    expect(duckdbType(field.type)).toBe('STRUCT("device" STRUCT("os" VARCHAR, "screen" STRUCT("dpr" DOUBLE, "touch" BOOLEAN)))');
    expect(field.nullable).toBe(true);
  });

  it('object with properties and additionalProperties is still a struct (the declared members are the columns)', () => {
    const field = columnOf({ type: 'object', properties: { a: { type: 'string' } }, additionalProperties: { type: 'string' } });
    expect(glueType(field.type)).toBe('struct<a:string>');
  });

  it.each([
    { value: { type: 'string' }, glue: 'map<string,string>', duckdb: 'MAP(VARCHAR, VARCHAR)' },
    { value: { type: 'integer', minimum: 0, maximum: 10 }, glue: 'map<string,int>', duckdb: 'MAP(VARCHAR, INTEGER)' },
    { value: { type: 'number' }, glue: 'map<string,double>', duckdb: 'MAP(VARCHAR, DOUBLE)' },
    {
      value: { type: 'object', properties: { n: { type: 'integer' } } },
      glue: 'map<string,struct<n:bigint>>',
      duckdb: 'MAP(VARCHAR, STRUCT("n" BIGINT))',
    },
    { value: { type: 'array', items: { type: 'string' } }, glue: 'map<string,array<string>>', duckdb: 'MAP(VARCHAR, VARCHAR[])' },
  ])('object with only additionalProperties $glue', ({ value, glue, duckdb }) => {
    const field = columnOf({ type: ['object', 'null'], additionalProperties: value });
    expect(field.type.kind).toBe('map');
    expect(glueType(field.type)).toBe(glue);
    expect(duckdbType(field.type)).toBe(duckdb);
  });

  it('additionalProperties: true (no value schema) is a JSON-text column, not a map', () => {
    expect(columnOf({ type: 'object', additionalProperties: true }).type).toEqual({ kind: 'json' });
  });

  it.each([
    { items: { type: 'string' }, glue: 'array<string>', duckdb: 'VARCHAR[]' },
    { items: { type: 'integer', minimum: 0, maximum: 9 }, glue: 'array<int>', duckdb: 'INTEGER[]' },
    { items: { type: 'string', format: 'date-time' }, glue: 'array<timestamp>', duckdb: 'TIMESTAMP_MS[]' },
    { items: { type: 'array', items: { type: 'boolean' } }, glue: 'array<array<boolean>>', duckdb: 'BOOLEAN[][]' },
    { items: { oneOf: [{ type: 'string' }, { type: 'number' }] }, glue: 'array<string>', duckdb: 'VARCHAR[]' },
  ])('array with items $glue', ({ items, glue, duckdb }) => {
    const field = columnOf({ type: 'array', items });
    expect(field.type.kind).toBe('array');
    expect(glueType(field.type)).toBe(glue);
    expect(duckdbType(field.type)).toBe(duckdb);
  });

  it('array of structs', () => {
    const field = columnOf({
      type: ['array', 'null'],
      items: { type: 'object', required: ['sku'], properties: { sku: { type: 'string' }, qty: { type: 'integer', minimum: 1, maximum: 99 } } },
    });
    expect(glueType(field.type)).toBe('array<struct<sku:string,qty:int>>');
    expect(duckdbType(field.type)).toBe('STRUCT("sku" VARCHAR, "qty" INTEGER)[]');
    if (field.type.kind !== 'array' || field.type.element.kind !== 'struct') throw new Error('expected array<struct>');
    expect(field.type.element.fields.map((f) => [f.name, f.nullable, f.pointer])).toEqual([
      ['sku', false, '#/properties/p/items/properties/sku'],
      ['qty', true, '#/properties/p/items/properties/qty'],
    ]);
  });
});

describe('nullability', () => {
  it.each([
    { what: 'required, non-null type', schema: { type: 'string' }, required: true, nullable: false },
    { what: 'required, type with "null"', schema: { type: ['string', 'null'] }, required: true, nullable: true },
    { what: 'optional, non-null type', schema: { type: 'string' }, required: false, nullable: true },
    { what: 'optional, type with "null"', schema: { type: ['string', 'null'] }, required: false, nullable: true },
    { what: 'required enum containing null', schema: { enum: ['a', null] }, required: true, nullable: true },
    { what: 'required enum without null', schema: { enum: ['a', 'b'] }, required: true, nullable: false },
    { what: 'required struct', schema: { type: 'object', properties: { a: { type: 'string' } } }, required: true, nullable: false },
    { what: 'required nullable struct', schema: { type: ['object', 'null'], properties: { a: { type: 'string' } } }, required: true, nullable: true },
  ])('$what -> nullable $nullable', ({ schema, required, nullable }) => {
    expect(columnOf(schema, required).nullable).toBe(nullable);
  });

  it('a nullable enum of strings stays a string column', () => {
    expect(columnOf({ enum: ['a', null] }).type).toEqual({ kind: 'string' });
  });
});

describe('column metadata', () => {
  it('keeps the description and the JSON pointer of each property', () => {
    const spec = buildTableSpec(schemaWith({ 'a/b~c': { type: 'string', description: 'odd name' } }));
    const field = spec.columns.find((c) => c.jsonName === 'a/b~c');
    expect(field).toMatchObject({ name: 'a_b_c', description: 'odd name', pointer: '#/properties/a~1b~0c' });
  });

  it('the column model is a pure function of the document', () => {
    const doc = schemaWith({ v: { type: 'object', properties: { w: { type: 'integer' } } } });
    expect(buildTableSpec(doc)).toEqual(buildTableSpec(structuredClone(doc)));
  });
});

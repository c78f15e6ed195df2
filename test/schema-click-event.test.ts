import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { createAjv, formatAjvError, meaningfulErrors } from '../src/schema/ajv.js';
import { lintSchema } from '../src/schema/lint.js';
import { DEFAULT_SCHEMA_DIR, loadSchemaFile, loadSchemas, loadTable } from '../src/schema/load.js';
import { duckdbType, glueType } from '../src/schema/render-types.js';
import type { Field, TableSpec } from '../src/schema/types.js';

const SCHEMA_FILE = fileURLToPath(new URL('../schemas/click_event.schema.json', import.meta.url));

let spec: TableSpec;
let doc: Record<string, unknown>;
beforeAll(async () => {
  spec = await loadSchemaFile(SCHEMA_FILE);
  doc = JSON.parse(await readFile(SCHEMA_FILE, 'utf8')) as Record<string, unknown>;
});

const column = (name: string): Field => {
  const field = spec.columns.find((c) => c.name === name);
  if (!field) throw new Error(`no column ${name}`);
  return field;
};

describe('click_event column model', () => {
  it('matches the snapshot (name, JSON name, Glue type, DuckDB type, nullability, pointer)', () => {
    const rows = spec.columns.map((c) => ({ name: c.name, jsonName: c.jsonName, glue: glueType(c.type), duckdb: duckdbType(c.type), nullable: c.nullable, pointer: c.pointer }));
    expect(rows).toMatchSnapshot();
  });

  it('has the table settings of its x-lake block', () => {
    expect(spec.name).toBe('click_events');
    expect(spec.eventTimeColumn).toBe('event_time');
    expect(spec.eventIdColumn).toBe('event_id');
    expect(spec.sortColumns).toEqual(['restaurant_id', 'event_time']);
    expect(spec.settings.partitionStart).toBe('2024-01-01');
    expect(spec.source).toBe(SCHEMA_FILE);
    expect(spec.description).toMatch(/QR-code menu/);
  });

  it('has every property of DESIGN.md, in declaration order', () => {
    expect(spec.columns.map((c) => c.name)).toEqual([
      'event_id', 'event_type', 'event_time', 'session_id', 'anonymous_id', 'restaurant_id', 'menu_id',
      'section', 'section_index', 'item_id', 'item_name', 'price_cents', 'position', 'scroll_depth_pct',
      'viewport', 'user_agent', 'page_url', 'referrer', 'locale', 'app_version', 'attributes',
    ]);
    // Every name is already snake_case in this schema: the JSON name is the column name.
    for (const c of spec.columns) expect(c.jsonName).toBe(c.name);
  });

  it('maps the envelope to required columns and event_time to a millisecond timestamp', () => {
    for (const name of ['event_id', 'event_type', 'event_time', 'session_id', 'anonymous_id', 'restaurant_id', 'menu_id']) {
      expect(column(name).nullable, name).toBe(false);
    }
    expect(column('event_time').type).toEqual({ kind: 'timestamp' });
    expect(duckdbType(column('event_time').type)).toBe('TIMESTAMP_MS');
    // A uuid-formatted id stays VARCHAR: DuckDB would otherwise guess UUID, which Athena cannot read.
    expect(duckdbType(column('event_id').type)).toBe('VARCHAR');
    expect(column('event_type').type).toEqual({ kind: 'string' });
  });

  it('maps the optional properties to nullable columns with bound-driven integer widths', () => {
    expect(column('section_index')).toMatchObject({ type: { kind: 'int' }, nullable: true });
    expect(column('position')).toMatchObject({ type: { kind: 'int' }, nullable: true });
    expect(column('scroll_depth_pct')).toMatchObject({ type: { kind: 'int' }, nullable: true });
    // Only a minimum: may exceed int32.
    expect(column('price_cents')).toMatchObject({ type: { kind: 'bigint' }, nullable: true });
    expect(glueType(column('viewport').type)).toBe('struct<width:int,height:int>');
    expect(column('viewport').nullable).toBe(true);
    expect(glueType(column('attributes').type)).toBe('map<string,string>');
    expect(column('section').description).toBe('Menu section name, e.g. Appetizers.');
    expect(column('position').pointer).toBe('#/properties/position');
  });

  it('lints clean and is the only shipped table', async () => {
    expect(lintSchema(doc)).toEqual([]);
    const specs = await loadSchemas();
    expect(specs.map((s) => s.name)).toEqual(['click_events']);
    expect((await loadTable('click_events')).columns).toEqual(spec.columns);
    expect(path.resolve(DEFAULT_SCHEMA_DIR)).toBe(path.dirname(SCHEMA_FILE));
  });

  it('loadTable names the known tables when asked for an unknown one', async () => {
    await expect(loadTable('clicks')).rejects.toMatchObject({ code: 'unknown_table', message: expect.stringContaining('known tables: click_events') });
  });
});

describe('Ajv (strict, draft 2020-12) and the shipped schema', () => {
  const event = {
    event_id: '8a4f2c1e-3b5d-4e6f-9a7b-1c2d3e4f5a6b',
    event_type: 'item_view',
    event_time: '2024-05-01T10:15:00.123+02:00',
    session_id: 's1',
    anonymous_id: 'a1',
    restaurant_id: 'r1',
    menu_id: 'm1',
    item_id: 'dish-7',
    attributes: { table: '12' },
  };

  it('compiles the schema in strict mode and accepts a valid event', () => {
    const validate = createAjv().compile(doc);
    expect(validate(event), JSON.stringify(validate.errors)).toBe(true);
    expect(validate({ ...event, event_type: 'scroll', scroll_depth_pct: 40, unknown_prop: 1 })).toBe(true);
  });

  it('rejects what the schema forbids, with readable messages', () => {
    const validate = createAjv().compile(doc);
    const errorsOf = (value: unknown): string[] => (validate(value) ? [] : meaningfulErrors(validate.errors).map(formatAjvError));
    expect(errorsOf({ ...event, event_time: 'yesterday' })).toEqual(['/event_time must match format "date-time"']);
    expect(errorsOf({ ...event, event_id: 'not-a-uuid' })).toEqual(['/event_id must match format "uuid"']);
    expect(errorsOf({ ...event, event_type: 'hover' })[0]).toMatch(/^\/event_type must be one of \["menu_view",/);
    expect(errorsOf({ ...event, scroll_depth_pct: 101 })).toEqual(['/scroll_depth_pct must be <= 100']);
    expect(errorsOf({ ...event, attributes: { table: 12 } })).toEqual(['/attributes/table must be string']);
    const { menu_id: _omitted, ...noMenu } = event;
    expect(errorsOf(noMenu)).toEqual(["(record) must have required property 'menu_id'"]);
  });

  it('enforces the conditional rules of each event type', () => {
    const validate = createAjv().compile(doc);
    expect(validate({ ...event, event_type: 'section_view', item_id: null })).toBe(false);
    expect(validate({ ...event, event_type: 'section_view', section: 'Mains', section_index: 2 })).toBe(true);
    expect(validate({ ...event, event_type: 'section_view', section: null, section_index: 2 })).toBe(false);
    expect(validate({ ...event, event_type: 'order_click', item_id: null })).toBe(false);
    expect(validate({ ...event, event_type: 'scroll' })).toBe(false);
    expect(validate({ ...event, event_type: 'menu_view', item_id: null })).toBe(true);
  });

  it('strict mode refuses an unknown keyword, and x-lake must keep its shape', () => {
    expect(() => createAjv().compile({ type: 'string', colour: 'red' })).toThrow(/unknown keyword/);
    expect(() => createAjv().compile({ ...doc, 'x-lake': { table: 't' } })).toThrow();
  });
});

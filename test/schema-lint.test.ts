import { describe, expect, it } from 'vitest';
import { isClicklakeError } from '../src/errors.js';
import { lintSchema, type LintIssue } from '../src/schema/lint.js';
import { buildTableSpec } from '../src/schema/load.js';

type Doc = Record<string, unknown>;

const LAKE = { table: 'clicks', eventTime: 'ts', eventId: 'id', partitionStart: '2024-01-01', sortKeys: ['ts'] };

/** A schema that lints clean; each test breaks one thing. */
function good(): Doc {
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    type: 'object',
    'x-lake': { ...LAKE },
    required: ['id', 'ts'],
    properties: {
      id: { type: 'string' },
      ts: { type: 'string', format: 'date-time' },
      n: { type: ['integer', 'null'], minimum: 0 },
    },
  };
}

function withProps(extra: Record<string, unknown>): Doc {
  const doc = good();
  doc['properties'] = { ...(doc['properties'] as Doc), ...extra };
  return doc;
}

function withLake(lake: Record<string, unknown>): Doc {
  return { ...good(), 'x-lake': lake };
}

const byCode = (issues: LintIssue[], code: string): LintIssue[] => issues.filter((i) => i.code === code);

/** The one issue of `code`, failing when there is none or several. */
function only(issues: LintIssue[], code: string): LintIssue {
  const found = byCode(issues, code);
  expect(found, `${code} in ${JSON.stringify(issues, null, 1)}`).toHaveLength(1);
  return found[0]!;
}

describe('lintSchema', () => {
  it('accepts a good schema', () => {
    expect(lintSchema(good())).toEqual([]);
  });

  describe('unsupported keywords', () => {
    it('$ref below the root, with a hint to inline it (and $defs at the root)', () => {
      const issues = lintSchema({ ...withProps({ thing: { $ref: '#/$defs/thing' } }), $defs: { thing: { type: 'string' } } });
      expect(issues).toEqual([
        { pointer: '#/$defs', code: 'unsupported_keyword', message: 'keyword "$defs" is not supported: inline the definitions where they are used' },
        {
          pointer: '#/properties/thing/$ref',
          code: 'unsupported_keyword',
          message: 'keyword "$ref" is not supported: inline the referenced schema: columns are derived from the properties written out in place',
        },
      ]);
    });

    it('patternProperties, pointing at the map alternative', () => {
      const issues = lintSchema(withProps({ tags: { type: 'object', patternProperties: { '^x-': { type: 'string' } } } }));
      expect(only(issues, 'unsupported_keyword')).toEqual({
        pointer: '#/properties/tags/patternProperties',
        code: 'unsupported_keyword',
        message: 'keyword "patternProperties" is not supported: use additionalProperties with one value schema (a map column) instead',
      });
    });

    it('allOf below the root (allowed at the root for if/then rules)', () => {
      const doc = withProps({ v: { type: 'object', allOf: [{ properties: { a: { type: 'string' } } }], properties: { b: { type: 'string' } } } });
      doc['allOf'] = [{ if: { properties: { n: { const: 1 } } }, then: { required: ['n'] } }];
      const issue = only(lintSchema(doc), 'unsupported_keyword');
      expect(issue.pointer).toBe('#/properties/v/allOf');
      expect(issue.message).toBe('keyword "allOf" is not supported: allOf is only allowed at the root, for if/then rules');
    });

    it('in nested places: items, additionalProperties, struct members', () => {
      const issues = lintSchema(
        withProps({
          list: { type: 'array', items: { type: 'object', properties: { x: { type: 'string', not: { const: '' } } } } },
          dict: { type: 'object', additionalProperties: { type: 'array', prefixItems: [{ type: 'string' }] } },
        }),
      );
      expect(byCode(issues, 'unsupported_keyword').map((i) => i.pointer)).toEqual([
        '#/properties/list/items/properties/x/not',
        '#/properties/dict/additionalProperties/prefixItems',
      ]);
    });

    it('escapes ~ and / in pointers', () => {
      const issues = lintSchema(withProps({ 'a/b~c': { type: 'string', $ref: '#/x' } }));
      expect(issues.map((i) => i.pointer)).toContain('#/properties/a~1b~0c/$ref');
    });
  });

  it('property names that collide after snake_case', () => {
    const issue = only(lintSchema(withProps({ itemId: { type: 'string' }, item_id: { type: 'string' } })), 'column_name_collision');
    expect(issue).toEqual({
      pointer: '#/properties/item_id',
      code: 'column_name_collision',
      message: 'properties "itemId" and "item_id" both become column "item_id" (Glue lowercases names): rename one',
    });
  });

  it('collisions inside a struct, and names differing only by case', () => {
    const issues = lintSchema(withProps({ v: { type: 'object', properties: { Width: { type: 'integer' }, width: { type: 'integer' } } } }));
    expect(only(issues, 'column_name_collision').pointer).toBe('#/properties/v/properties/width');
  });

  it('a property with no letters or digits', () => {
    expect(only(lintSchema(withProps({ '--': { type: 'string' } })), 'empty_column_name').pointer).toBe('#/properties/--');
  });

  it('missing x-lake', () => {
    const doc = good();
    delete doc['x-lake'];
    expect(lintSchema(doc)).toEqual([
      { pointer: '#/x-lake', code: 'missing_x_lake', message: 'add an "x-lake" block with table, eventTime, eventId, partitionStart and sortKeys' },
    ]);
  });

  it.each(['table', 'eventTime', 'eventId', 'partitionStart', 'sortKeys'])('missing x-lake.%s', (key) => {
    const lake: Record<string, unknown> = { ...LAKE };
    delete lake[key];
    const issues = lintSchema(withLake(lake));
    expect(issues).toContainEqual({ pointer: `#/x-lake/${key}`, code: 'missing_x_lake_field', message: `x-lake.${key} is missing` });
    // Ajv's x-lake meta schema refuses it as well.
    expect(only(issues, 'ajv_rejected').message).toMatch(/^Ajv \(strict, draft 2020-12\) rejects the schema: .*must have required property '\w+'/);
  });

  it('a table name Glue would change', () => {
    const issue = only(lintSchema(withLake({ ...LAKE, table: 'Clicks' })), 'bad_table_name');
    expect(issue.pointer).toBe('#/x-lake/table');
    expect(issue.message).toMatch(/x-lake.table "Clicks" must be 1-250 lower-case letters, digits or underscores/);
    expect(byCode(lintSchema(withLake({ ...LAKE, table: 'x'.repeat(251) })), 'bad_table_name')).toHaveLength(1);
    expect(lintSchema(withLake({ ...LAKE, table: 'x'.repeat(250) }))).toEqual([]);
  });

  it.each(['2024-02-30', '2023-02-29', '2024-13-01', '2024-1-01', '01/02/2024', '2024-01-01T00:00:00Z'])('bad partitionStart %s', (start) => {
    expect(only(lintSchema(withLake({ ...LAKE, partitionStart: start })), 'bad_partition_start')).toEqual({
      pointer: '#/x-lake/partitionStart',
      code: 'bad_partition_start',
      message: `x-lake.partitionStart "${start}" must be a real date written YYYY-MM-DD`,
    });
  });

  it('accepts a leap day', () => {
    expect(lintSchema(withLake({ ...LAKE, partitionStart: '2024-02-29' }))).toEqual([]);
  });

  it('eventTime that is not a date-time', () => {
    const doc = withProps({ ts: { type: 'string' } });
    expect(only(lintSchema(doc), 'x_lake_bad_type')).toEqual({
      pointer: '#/properties/ts',
      code: 'x_lake_bad_type',
      message: 'x-lake.eventTime property "ts" must be a non-null string with "format": "date-time"',
    });
    expect(only(lintSchema(withProps({ ts: { type: ['string', 'null'], format: 'date-time' } })), 'x_lake_bad_type').pointer).toBe('#/properties/ts');
    expect(only(lintSchema(withProps({ ts: { type: 'integer' } })), 'x_lake_bad_type').pointer).toBe('#/properties/ts');
  });

  it('eventTime or eventId that is not required', () => {
    const doc = { ...good(), required: ['id'] };
    expect(only(lintSchema(doc), 'x_lake_not_required')).toEqual({
      pointer: '#/x-lake/eventTime',
      code: 'x_lake_not_required',
      message: 'x-lake.eventTime property "ts" must be listed in required',
    });
    expect(only(lintSchema({ ...good(), required: ['ts'] }), 'x_lake_not_required').pointer).toBe('#/x-lake/eventId');
  });

  it('eventId that is not a non-null string', () => {
    expect(only(lintSchema(withProps({ id: { type: 'integer' } })), 'x_lake_bad_type').message).toBe('x-lake.eventId property "id" must be a non-null string');
  });

  it('x-lake naming a property that does not exist', () => {
    const issue = only(lintSchema(withLake({ ...LAKE, eventTime: 'when' })), 'x_lake_unknown_property');
    expect(issue).toEqual({ pointer: '#/x-lake/eventTime', code: 'x_lake_unknown_property', message: 'x-lake.eventTime names "when", which is not a property' });
  });

  it('sortKeys naming an unknown property', () => {
    const issue = only(lintSchema(withLake({ ...LAKE, sortKeys: ['ts', 'restaurant'] })), 'x_lake_unknown_property');
    expect(issue).toEqual({ pointer: '#/x-lake/sortKeys/1', code: 'x_lake_unknown_property', message: 'x-lake.sortKeys names "restaurant", which is not a property' });
  });

  it('required names that are not declared', () => {
    const issue = only(lintSchema({ ...good(), required: ['id', 'ts', 'ghost'] }), 'required_not_declared');
    expect(issue).toEqual({
      pointer: '#/required/2',
      code: 'required_not_declared',
      message: 'required property "ghost" is not declared in properties: declare it, or remove it from required',
    });
    const nested = lintSchema(withProps({ v: { type: 'object', required: ['w'], properties: { h: { type: 'integer' } } } }));
    expect(byCode(nested, 'required_not_declared').map((i) => i.pointer)).toEqual(['#/properties/v/required/0']);
  });

  it('a root that is not an object schema', () => {
    expect(only(lintSchema({ ...good(), type: 'array' }), 'root_not_object')).toEqual({
      pointer: '#',
      code: 'root_not_object',
      message: 'the root must be `"type": "object"` with `properties` (one column each)',
    });
    const noProps = good();
    delete noProps['properties'];
    expect(byCode(lintSchema(noProps), 'root_not_object')).toHaveLength(1);
    expect(byCode(lintSchema({ ...good(), type: ['object', 'null'] }), 'root_not_object')).toHaveLength(1);
  });

  it.each([[[]], ['schema'], [null], [42]])('a document that is not a JSON object: %j', (doc) => {
    expect(lintSchema(doc)).toEqual([{ pointer: '#', code: 'not_an_object', message: 'a schema file must hold one JSON object' }]);
  });

  it('a property schema that is not an object', () => {
    const issue = only(lintSchema(withProps({ anything: true })), 'bad_property_schema');
    expect(issue).toEqual({
      pointer: '#/properties/anything',
      code: 'bad_property_schema',
      message: 'property "anything" must be a schema object (true/false schemas have no type)',
    });
  });

  it('what Ajv strict mode refuses', () => {
    const issue = only(lintSchema(withProps({ n: { type: 'integer', minimum: 'zero' } })), 'ajv_rejected');
    expect(issue.pointer).toBe('#');
    expect(issue.message).toMatch(/^Ajv \(strict, draft 2020-12\) rejects the schema: /);
  });

  it('oneOf branches are not linted (the column holds JSON text)', () => {
    expect(lintSchema(withProps({ v: { oneOf: [{ type: 'string' }, { type: 'object', patternProperties: { x: { type: 'string' } } }] } }))).toEqual([]);
  });

  it('reports every problem at once', () => {
    const doc = withLake({ ...LAKE, partitionStart: '2024-02-30', sortKeys: ['nope'] });
    doc['properties'] = { ...(doc['properties'] as Doc), itemId: { type: 'string' }, item_id: { type: 'string' }, r: { $ref: '#' } };
    const codes = lintSchema(doc).map((i) => i.code).sort();
    expect(codes).toEqual(['bad_partition_start', 'column_name_collision', 'unsupported_keyword', 'x_lake_unknown_property']);
  });
});

describe('buildTableSpec', () => {
  it('throws schema_invalid with every issue and its pointer', () => {
    let caught: unknown;
    try {
      buildTableSpec(withLake({ ...LAKE, partitionStart: '2024-02-30' }), 'bad.schema.json');
    } catch (err) {
      caught = err;
    }
    expect(isClicklakeError(caught)).toBe(true);
    if (!isClicklakeError(caught)) return;
    expect(caught.code).toBe('schema_invalid');
    expect(caught.message).toBe(
      'bad.schema.json is not a usable lake schema:\nbad.schema.json: #/x-lake/partitionStart: x-lake.partitionStart "2024-02-30" must be a real date written YYYY-MM-DD',
    );
    expect((caught.meta['issues'] as LintIssue[]).map((i) => i.code)).toEqual(['bad_partition_start']);
  });
});

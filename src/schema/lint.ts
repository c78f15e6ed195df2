import { createAjv } from './ajv.js';
import { declaredTypes, escapePointer } from './column-model.js';
import { toSnakeCase } from './names.js';

type JsonSchema = Record<string, unknown>;

/** One problem in a schema file, located by JSON pointer. */
export interface LintIssue {
  pointer: string;
  code: string;
  message: string;
}

const ANNOTATIONS = ['$schema', '$id', '$comment', 'title', 'description', 'examples', 'default', 'deprecated', 'readOnly', 'writeOnly'];
const MAPPED = ['type', 'properties', 'required', 'additionalProperties', 'items', 'enum', 'const', 'format', 'oneOf', 'anyOf'];
const VALIDATION_ONLY = [
  'minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum', 'multipleOf', 'minLength', 'maxLength', 'pattern',
  'minItems', 'maxItems', 'uniqueItems', 'minProperties', 'maxProperties',
];
/** Conditional rules (`allOf` of `if`/`then`) validate records but add no columns: allowed at the root only. */
const ROOT_ONLY = ['x-lake', 'allOf', 'if', 'then', 'else'];
const PROPERTY_KEYWORDS = new Set([...ANNOTATIONS, ...MAPPED, ...VALIDATION_ONLY]);
const ROOT_KEYWORDS = new Set([...PROPERTY_KEYWORDS, ...ROOT_ONLY]);

const HINTS: Record<string, string> = {
  $ref: 'inline the referenced schema: columns are derived from the properties written out in place',
  $defs: 'inline the definitions where they are used',
  patternProperties: 'use additionalProperties with one value schema (a map column) instead',
  prefixItems: 'use items with one schema (an array column) instead',
  allOf: 'allOf is only allowed at the root, for if/then rules',
};

/** Glue's name rules: lower case letters, digits and underscore; at most 255 characters. */
const GLUE_NAME = /^[a-z0-9_]{1,255}$/;
const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;

function asSchema(value: unknown): JsonSchema | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as JsonSchema) : undefined;
}

/**
 * Every reason this schema cannot drive a lake table, each with the JSON pointer of the offending
 * keyword. An empty list means `toTableSpec` can map it.
 */
export function lintSchema(doc: unknown): LintIssue[] {
  const issues: LintIssue[] = [];
  const root = asSchema(doc);
  if (!root) return [{ pointer: '#', code: 'not_an_object', message: 'a schema file must hold one JSON object' }];

  const ajv = createAjv();
  try {
    ajv.compile(root);
  } catch (err) {
    issues.push({ pointer: '#', code: 'ajv_rejected', message: `Ajv (strict, draft 2020-12) rejects the schema: ${(err as Error).message}` });
  }
  // A root that also allows null would let a `null` record pass validation as an event.
  const rootTypes = declaredTypes(root);
  if (rootTypes.types.join() !== 'object' || rootTypes.allowsNull || !asSchema(root['properties'])) {
    issues.push({ pointer: '#', code: 'root_not_object', message: 'the root must be `"type": "object"` with `properties` (one column each)' });
  }
  lintObject(root, '#', true, issues);
  lintLakeSettings(root, issues);
  return issues;
}

function lintKeywords(schema: JsonSchema, pointer: string, isRoot: boolean, issues: LintIssue[]): void {
  const allowed = isRoot ? ROOT_KEYWORDS : PROPERTY_KEYWORDS;
  for (const keyword of Object.keys(schema)) {
    if (allowed.has(keyword)) continue;
    const hint = HINTS[keyword] ?? 'remove it, or describe the value with type/properties/items/additionalProperties';
    issues.push({ pointer: `${pointer}/${escapePointer(keyword)}`, code: 'unsupported_keyword', message: `keyword "${keyword}" is not supported: ${hint}` });
  }
}

function lintObject(schema: JsonSchema, pointer: string, isRoot: boolean, issues: LintIssue[]): void {
  lintKeywords(schema, pointer, isRoot, issues);
  // oneOf / anyOf values become a JSON-text column: their branches need no mapping.
  if ('oneOf' in schema || 'anyOf' in schema) return;

  const properties = asSchema(schema['properties']);
  if (properties) {
    const seen = new Map<string, string>();
    for (const [name, value] of Object.entries(properties)) {
      const childPointer = `${pointer}/properties/${escapePointer(name)}`;
      const column = toSnakeCase(name);
      if (column === '') {
        issues.push({ pointer: childPointer, code: 'empty_column_name', message: `property "${name}" has no letters or digits to make a column name from` });
      } else if (seen.has(column)) {
        issues.push({
          pointer: childPointer,
          code: 'column_name_collision',
          message: `properties "${seen.get(column)}" and "${name}" both become column "${column}" (Glue lowercases names): rename one`,
        });
      } else {
        seen.set(column, name);
      }
      const child = asSchema(value);
      if (!child) {
        issues.push({ pointer: childPointer, code: 'bad_property_schema', message: `property "${name}" must be a schema object (true/false schemas have no type)` });
        continue;
      }
      lintObject(child, childPointer, false, issues);
    }
  }
  if (Array.isArray(schema['required'])) {
    (schema['required'] as unknown[]).forEach((name, i) => {
      if (typeof name !== 'string' || !properties || !(name in properties)) {
        issues.push({
          pointer: `${pointer}/required/${i}`,
          code: 'required_not_declared',
          message: `required property "${String(name)}" is not declared in properties: declare it, or remove it from required`,
        });
      }
    });
  }
  const additional = asSchema(schema['additionalProperties']);
  if (additional) lintObject(additional, `${pointer}/additionalProperties`, false, issues);
  const items = asSchema(schema['items']);
  if (items) lintObject(items, `${pointer}/items`, false, issues);
}

function lintLakeSettings(root: JsonSchema, issues: LintIssue[]): void {
  const lake = asSchema(root['x-lake']);
  const at = '#/x-lake';
  if (!lake) {
    issues.push({ pointer: at, code: 'missing_x_lake', message: 'add an "x-lake" block with table, eventTime, eventId, partitionStart and sortKeys' });
    return;
  }
  const properties = asSchema(root['properties']) ?? {};
  const required = new Set(Array.isArray(root['required']) ? (root['required'] as string[]) : []);
  for (const key of ['table', 'eventTime', 'eventId', 'partitionStart', 'sortKeys']) {
    if (!(key in lake)) issues.push({ pointer: `${at}/${key}`, code: 'missing_x_lake_field', message: `x-lake.${key} is missing` });
  }
  const table = lake['table'];
  if (typeof table === 'string' && (!GLUE_NAME.test(table) || table.length > 250)) {
    issues.push({
      pointer: `${at}/table`,
      code: 'bad_table_name',
      message: `x-lake.table "${table}" must be 1-250 lower-case letters, digits or underscores (Glue's name rule, leaving room for the _raw suffix)`,
    });
  }
  for (const key of ['eventTime', 'eventId'] as const) {
    const name = lake[key];
    if (typeof name !== 'string') continue;
    const prop = asSchema(properties[name]);
    if (!prop) {
      issues.push({ pointer: `${at}/${key}`, code: 'x_lake_unknown_property', message: `x-lake.${key} names "${name}", which is not a property` });
      continue;
    }
    if (!required.has(name)) {
      issues.push({ pointer: `${at}/${key}`, code: 'x_lake_not_required', message: `x-lake.${key} property "${name}" must be listed in required` });
    }
    const types = declaredTypes(prop);
    const ok = types.types.join() === 'string' && !types.allowsNull && (key === 'eventId' || prop['format'] === 'date-time');
    if (!ok) {
      const want = key === 'eventTime' ? 'a non-null string with "format": "date-time"' : 'a non-null string';
      issues.push({ pointer: `#/properties/${escapePointer(name)}`, code: 'x_lake_bad_type', message: `x-lake.${key} property "${name}" must be ${want}` });
    }
  }
  const start = lake['partitionStart'];
  if (typeof start === 'string' && (!ISO_DATE.test(start) || Number.isNaN(Date.parse(`${start}T00:00:00Z`)) || new Date(`${start}T00:00:00Z`).toISOString().slice(0, 10) !== start)) {
    issues.push({ pointer: `${at}/partitionStart`, code: 'bad_partition_start', message: `x-lake.partitionStart "${start}" must be a real date written YYYY-MM-DD` });
  }
  const sortKeys = lake['sortKeys'];
  if (Array.isArray(sortKeys)) {
    sortKeys.forEach((name, i) => {
      if (typeof name !== 'string' || !(name in properties)) {
        issues.push({ pointer: `${at}/sortKeys/${i}`, code: 'x_lake_unknown_property', message: `x-lake.sortKeys names "${String(name)}", which is not a property` });
      }
    });
  }
}

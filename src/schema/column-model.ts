import type { Field, LakeSettings, LakeType, TableSpec } from './types.js';
import { toSnakeCase } from './names.js';

type JsonSchema = Record<string, unknown>;

const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;

function asSchema(value: unknown): JsonSchema | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as JsonSchema) : undefined;
}

/** Non-null JSON types a schema allows, and whether it allows null. */
export function declaredTypes(schema: JsonSchema): { types: string[]; allowsNull: boolean } {
  const raw = schema['type'];
  let list: string[] = typeof raw === 'string' ? [raw] : Array.isArray(raw) ? raw.filter((t): t is string => typeof t === 'string') : [];
  if (list.length === 0 && Array.isArray(schema['enum'])) {
    const values = schema['enum'] as unknown[];
    const kinds = new Set(values.map((v) => (v === null ? 'null' : typeof v)));
    list = [...kinds].map((k) => (k === 'number' ? 'number' : k));
  }
  if (list.length === 0 && 'const' in schema) list = [schema['const'] === null ? 'null' : typeof schema['const']];
  return { types: list.filter((t) => t !== 'null'), allowsNull: list.includes('null') };
}

/** The smallest / largest integer a schema allows, from (exclusive)minimum / (exclusive)maximum. */
function integerBounds(schema: JsonSchema): { min?: number; max?: number } {
  const num = (key: string): number | undefined => (typeof schema[key] === 'number' ? (schema[key] as number) : undefined);
  const mins = [num('minimum'), num('exclusiveMinimum') === undefined ? undefined : Math.floor(num('exclusiveMinimum')!) + 1];
  const maxs = [num('maximum'), num('exclusiveMaximum') === undefined ? undefined : Math.ceil(num('exclusiveMaximum')!) - 1];
  const defined = (xs: (number | undefined)[]): number[] => xs.filter((x): x is number => x !== undefined);
  const result: { min?: number; max?: number } = {};
  if (defined(mins).length) result.min = Math.max(...defined(mins));
  if (defined(maxs).length) result.max = Math.min(...defined(maxs));
  return result;
}

/** JSON Schema -> lake type, per DESIGN.md's mapping table. */
export function mapType(schema: JsonSchema, pointer: string): LakeType {
  if ('oneOf' in schema || 'anyOf' in schema) return { kind: 'json' };
  const { types } = declaredTypes(schema);
  if (types.length !== 1) return { kind: 'json' };
  switch (types[0]) {
    case 'string':
      if (schema['format'] === 'date-time') return { kind: 'timestamp' };
      if (schema['format'] === 'date') return { kind: 'date' };
      return { kind: 'string' };
    case 'integer': {
      const { min, max } = integerBounds(schema);
      const fitsInt32 = min !== undefined && max !== undefined && min >= INT32_MIN && max <= INT32_MAX;
      return { kind: fitsInt32 ? 'int' : 'bigint' };
    }
    case 'number':
      return { kind: 'double' };
    case 'boolean':
      return { kind: 'boolean' };
    case 'object': {
      const properties = asSchema(schema['properties']);
      if (properties && Object.keys(properties).length > 0) {
        return { kind: 'struct', fields: mapFields(schema, `${pointer}/properties`) };
      }
      const additional = asSchema(schema['additionalProperties']);
      if (additional) return { kind: 'map', value: mapType(additional, `${pointer}/additionalProperties`) };
      return { kind: 'json' };
    }
    case 'array': {
      const items = asSchema(schema['items']);
      return items ? { kind: 'array', element: mapType(items, `${pointer}/items`) } : { kind: 'json' };
    }
    default:
      return { kind: 'json' };
  }
}

/** The fields of an object schema, in declaration order. */
export function mapFields(objectSchema: JsonSchema, propertiesPointer: string): Field[] {
  const properties = asSchema(objectSchema['properties']) ?? {};
  const required = new Set(Array.isArray(objectSchema['required']) ? (objectSchema['required'] as string[]) : []);
  return Object.entries(properties).map(([jsonName, value]) => {
    const schema = asSchema(value) ?? {};
    const pointer = `${propertiesPointer}/${escapePointer(jsonName)}`;
    const { allowsNull } = declaredTypes(schema);
    const field: Field = {
      name: toSnakeCase(jsonName),
      jsonName,
      type: mapType(schema, pointer),
      nullable: !required.has(jsonName) || allowsNull,
      pointer,
    };
    if (typeof schema['description'] === 'string') field.description = schema['description'];
    return field;
  });
}

export function escapePointer(segment: string): string {
  return segment.replaceAll('~', '~0').replaceAll('/', '~1');
}

/**
 * Builds the column model of a schema that has already passed `lintSchema`.
 * Pure: the same document always gives the same spec.
 */
export function toTableSpec(doc: JsonSchema, source: string): TableSpec {
  const settings = doc['x-lake'] as LakeSettings;
  const columns = mapFields(doc, '#/properties');
  const columnOf = (jsonName: string): string => toSnakeCase(jsonName);
  const spec: TableSpec = {
    name: settings.table,
    settings: { ...settings, sortKeys: [...settings.sortKeys] },
    columns,
    eventTimeColumn: columnOf(settings.eventTime),
    eventIdColumn: columnOf(settings.eventId),
    sortColumns: settings.sortKeys.map(columnOf),
    jsonSchema: doc,
    source,
  };
  if (typeof doc['description'] === 'string') spec.description = doc['description'];
  return spec;
}

import { quotedIdentifier, quotedString } from '../query/sql.js';
import { duckdbType } from './render-types.js';
import type { Field, LakeType, TableSpec } from './types.js';

/**
 * Compiles a table's JSON Schema into DuckDB SQL that validates and types records parsed by
 * DuckDB's JSON reader: the compaction fast path. Ajv stays the reference validator: rejected
 * records are re-checked with it for their reasons, and a differential test holds the two to
 * the same answers. Keywords outside the supported subset are reported, never ignored.
 *
 * Records arrive as `MAP(VARCHAR, JSON)` (the root object) plus the list of its keys; nested
 * values are JSON.
 */

type JsonSchema = Record<string, unknown>;

/** A value being validated: SQL expressions over one record. */
interface Node {
  /** JSON value, SQL NULL when absent. */
  value: string;
  /** json_type of the value: 'NULL' for JSON null, SQL NULL when absent. */
  jtype: string;
  /** Instance path for messages, e.g. `/viewport/width`. */
  path: string;
  /** The string value when jtype is 'VARCHAR' (a precomputed column), else computed on use. */
  text?: string;
  /** The value as DOUBLE when it is a JSON number (a precomputed column). */
  number?: string;
}

/**
 * How the root record's properties are reached: precomputed columns, so each property is looked
 * up, typed and unescaped once per record however many rules mention it.
 */
export type RootFields = (path: string) => Node | undefined;

/** A rule a record breaks when `sql` is true. */
export interface SqlCheck {
  sql: string;
  message: string;
}

export interface SqlValidator {
  checks: SqlCheck[];
  /** `<pointer>: <keyword>` for every keyword the SQL path cannot check. Must be empty to use it. */
  unsupported: string[];
}

const ANNOTATIONS = new Set(['$schema', '$id', '$comment', 'title', 'description', 'examples', 'default', 'deprecated', 'readOnly', 'writeOnly', 'x-lake']);
const NUMERIC = `('BIGINT', 'UBIGINT', 'DOUBLE')`;
const JSON_TYPES: Record<string, string[]> = {
  string: ['VARCHAR'],
  number: ['BIGINT', 'UBIGINT', 'DOUBLE'],
  integer: ['BIGINT', 'UBIGINT'],
  boolean: ['BOOLEAN'],
  null: ['NULL'],
  object: ['OBJECT'],
  array: ['ARRAY'],
};

/**
 * RFC 3339 date-time as ajv-formats accepts it (`t`/space separators, `z`, offsets with or
 * without a colon or minutes); DuckDB's cast then checks the calendar.
 */
export const DATE_TIME_REGEX = '^\\d{4}-\\d{2}-\\d{2}[Tt ]\\d{2}:\\d{2}:\\d{2}(\\.\\d+)?([Zz]|[+-]\\d{2}(:?\\d{2})?)$';
const DATE_REGEX = '^\\d{4}-\\d{2}-\\d{2}$';
const UUID_REGEX = '^(?i)(urn:uuid:)?[0-9a-f]{8}-([0-9a-f]{4}-){3}[0-9a-f]{12}$';

const asSchema = (v: unknown): JsonSchema | undefined => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as JsonSchema) : undefined);
const str = (node: Node): string => node.text ?? `(${node.value} ->> '$')`;
const num = (node: Node): string => node.number ?? `CAST(${node.value} AS DOUBLE)`;
const jsonKey = (key: string): string => quotedString(`$.${JSON.stringify(key)}`);

function childNode(parent: Node, key: string): Node {
  const value = `json_extract(${parent.value}, ${jsonKey(key)})`;
  return { value, jtype: `json_type(${value})`, path: `${parent.path}/${key}` };
}

class Compiler {
  readonly checks: SqlCheck[] = [];
  readonly unsupported: string[] = [];

  /** Adds the violations of `schema` at `node`, each guarded by `guard` (SQL true when it applies). */
  constructor(private readonly rootFields?: RootFields) {}

  schema(schema: JsonSchema, node: Node, guard: string, pointer: string, rootKeys?: string): void {
    const add = (sql: string, message: string): void => {
      this.checks.push({ sql: guard === 'TRUE' ? sql : `(${guard}) AND (${sql})`, message: `${node.path || '(record)'} ${message}` });
    };
    for (const [keyword, arg] of Object.entries(schema)) {
      if (ANNOTATIONS.has(keyword)) continue;
      switch (keyword) {
        case 'type': {
          const types = typeof arg === 'string' ? [arg] : (arg as string[]);
          const allowed = types.flatMap((t) => JSON_TYPES[t] ?? []);
          const integral = types.includes('integer') && !types.includes('number') ? ` OR (${node.jtype} = 'DOUBLE' AND ${num(node)} = floor(${num(node)}))` : '';
          add(`${node.jtype} IS NOT NULL AND NOT (${node.jtype} IN (${allowed.map(quotedString).join(', ')})${integral})`, `must be ${types.join(',')}`);
          break;
        }
        case 'enum':
        case 'const': {
          const values = keyword === 'enum' ? (arg as unknown[]) : [arg];
          const matches = values.map((v) => this.equals(node, v)).join(' OR ');
          add(`${node.jtype} IS NOT NULL AND NOT (${matches || 'FALSE'})`, keyword === 'enum' ? `must be one of ${JSON.stringify(values)}` : `must be ${JSON.stringify(arg)}`);
          break;
        }
        case 'minLength':
          add(`${node.jtype} = 'VARCHAR' AND length(${str(node)}) < ${Number(arg)}`, `must NOT have fewer than ${arg} characters`);
          break;
        case 'maxLength':
          add(`${node.jtype} = 'VARCHAR' AND length(${str(node)}) > ${Number(arg)}`, `must NOT have more than ${arg} characters`);
          break;
        case 'pattern':
          add(`${node.jtype} = 'VARCHAR' AND NOT regexp_matches(${str(node)}, ${quotedString(String(arg))})`, `must match pattern "${arg}"`);
          break;
        case 'format':
          this.format(String(arg), node, add, pointer);
          break;
        case 'minimum':
          add(`${node.jtype} IN ${NUMERIC} AND ${num(node)} < ${Number(arg)}`, `must be >= ${arg}`);
          break;
        case 'maximum':
          add(`${node.jtype} IN ${NUMERIC} AND ${num(node)} > ${Number(arg)}`, `must be <= ${arg}`);
          break;
        case 'exclusiveMinimum':
          add(`${node.jtype} IN ${NUMERIC} AND ${num(node)} <= ${Number(arg)}`, `must be > ${arg}`);
          break;
        case 'exclusiveMaximum':
          add(`${node.jtype} IN ${NUMERIC} AND ${num(node)} >= ${Number(arg)}`, `must be < ${arg}`);
          break;
        case 'multipleOf':
          add(`${node.jtype} IN ${NUMERIC} AND ${num(node)} / ${Number(arg)} <> floor(${num(node)} / ${Number(arg)})`, `must be multiple of ${arg}`);
          break;
        case 'required':
          for (const key of arg as string[]) {
            const known = this.rootFields?.(`${node.path}/${key}`);
            const present = known ? `${known.jtype} IS NOT NULL` : rootKeys ? `list_contains(${rootKeys}, ${quotedString(key)})` : `json_exists(${node.value}, ${jsonKey(key)})`;
            add(`${node.jtype} = 'OBJECT' AND NOT ${present}`, `must have required property '${key}'`);
          }
          break;
        case 'properties':
          for (const [key, sub] of Object.entries(asSchema(arg) ?? {})) {
            const child = this.rootFields?.(`${node.path}/${key}`) ?? (rootKeys ? rootChild(node, key, rootKeys) : childNode(node, key));
            const childGuard = rootKeys ? guard : `${guard === 'TRUE' ? '' : `(${guard}) AND `}${node.jtype} = 'OBJECT'`;
            this.schema(asSchema(sub) ?? {}, child, childGuard, `${pointer}/properties/${key}`);
          }
          break;
        case 'additionalProperties':
          this.additional(arg, schema, node, add, pointer, rootKeys);
          break;
        case 'items':
          this.items(asSchema(arg) ?? {}, node, add, `${pointer}/items`);
          break;
        case 'minItems':
          add(`${node.jtype} = 'ARRAY' AND json_array_length(${node.value}) < ${Number(arg)}`, `must NOT have fewer than ${arg} items`);
          break;
        case 'maxItems':
          add(`${node.jtype} = 'ARRAY' AND json_array_length(${node.value}) > ${Number(arg)}`, `must NOT have more than ${arg} items`);
          break;
        case 'minProperties':
          add(`${node.jtype} = 'OBJECT' AND len(json_keys(${node.value})) < ${Number(arg)}`, `must NOT have fewer than ${arg} properties`);
          break;
        case 'maxProperties':
          add(`${node.jtype} = 'OBJECT' AND len(json_keys(${node.value})) > ${Number(arg)}`, `must NOT have more than ${arg} properties`);
          break;
        case 'allOf':
          (arg as unknown[]).forEach((sub, i) => this.schema(asSchema(sub) ?? {}, node, guard, `${pointer}/allOf/${i}`, rootKeys));
          break;
        case 'if': {
          const test = new Compiler(this.rootFields);
          test.schema(asSchema(arg) ?? {}, node, 'TRUE', `${pointer}/if`, rootKeys);
          this.unsupported.push(...test.unsupported);
          const holds = test.checks.length ? `NOT (${test.checks.map((c) => `COALESCE(${c.sql}, FALSE)`).join(' OR ')})` : 'TRUE';
          const both = (g: string): string => (guard === 'TRUE' ? g : `(${guard}) AND ${g}`);
          const then = asSchema(schema['then']);
          if (then) this.schema(then, node, both(holds), `${pointer}/then`, rootKeys);
          const otherwise = asSchema(schema['else']);
          if (otherwise) this.schema(otherwise, node, both(`NOT (${holds})`), `${pointer}/else`, rootKeys);
          break;
        }
        case 'then':
        case 'else':
          break; // compiled with `if`
        default:
          this.unsupported.push(`${pointer}: ${keyword}`);
      }
    }
  }

  private equals(node: Node, v: unknown): string {
    if (v === null) return `${node.jtype} = 'NULL'`;
    if (typeof v === 'string') return `(${node.jtype} = 'VARCHAR' AND ${str(node)} = ${quotedString(v)})`;
    if (typeof v === 'number') return `(${node.jtype} IN ${NUMERIC} AND ${num(node)} = ${v})`;
    if (typeof v === 'boolean') return `(${node.jtype} = 'BOOLEAN' AND CAST(${node.value} AS BOOLEAN) = ${v})`;
    return `(CAST(${node.value} AS VARCHAR) = ${quotedString(JSON.stringify(v))})`;
  }

  private format(format: string, node: Node, add: (sql: string, message: string) => void, pointer: string): void {
    const s = str(node);
    const when = `${node.jtype} = 'VARCHAR' AND `;
    if (format === 'date-time') {
      add(`${when}NOT (regexp_full_match(${s}, ${quotedString(DATE_TIME_REGEX)}) AND TRY_CAST(upper(${s}) AS TIMESTAMPTZ) IS NOT NULL)`, 'must match format "date-time"');
    } else if (format === 'date') {
      add(`${when}NOT (regexp_full_match(${s}, ${quotedString(DATE_REGEX)}) AND TRY_CAST(${s} AS DATE) IS NOT NULL)`, 'must match format "date"');
    } else if (format === 'uuid') {
      add(`${when}NOT regexp_full_match(${s}, ${quotedString(UUID_REGEX)})`, 'must match format "uuid"');
    } else {
      this.unsupported.push(`${pointer}: format ${format}`);
    }
  }

  private scalarTypesOf(schema: JsonSchema, pointer: string): string[] | undefined {
    const extra = Object.keys(schema).filter((k) => !ANNOTATIONS.has(k) && k !== 'type');
    const types = typeof schema['type'] === 'string' ? [schema['type']] : Array.isArray(schema['type']) ? (schema['type'] as string[]) : [];
    if (extra.length || types.length === 0 || types.some((t) => t === 'object' || t === 'array' || t === 'integer')) {
      this.unsupported.push(`${pointer}: only a plain "type" of string, number, boolean or null is supported here`);
      return undefined;
    }
    return types.flatMap((t) => JSON_TYPES[t] ?? []);
  }

  private additional(arg: unknown, schema: JsonSchema, node: Node, add: (sql: string, m: string) => void, pointer: string, rootKeys?: string): void {
    if (arg === true) return;
    if (arg === false) {
      const declared = Object.keys(asSchema(schema['properties']) ?? {});
      const keys = rootKeys ?? `json_keys(${node.value})`;
      const list = declared.length ? `[${declared.map(quotedString).join(', ')}]` : '[]::VARCHAR[]';
      add(`${node.jtype} = 'OBJECT' AND len(list_filter(${keys}, k -> NOT list_contains(${list}, k))) > 0`, 'must NOT have additional properties');
      return;
    }
    if (rootKeys) {
      this.unsupported.push(`${pointer}/additionalProperties: a value schema for unknown root properties`);
      return;
    }
    const allowed = this.scalarTypesOf(asSchema(arg) ?? {}, `${pointer}/additionalProperties`);
    if (!allowed) return;
    add(
      `${node.jtype} = 'OBJECT' AND NOT COALESCE(list_bool_and(list_transform(json_type(${node.value}, '$.*'), t -> t IN (${allowed.map(quotedString).join(', ')}))), TRUE)`,
      'must have property values of the declared type',
    );
  }

  private items(items: JsonSchema, node: Node, add: (sql: string, m: string) => void, pointer: string): void {
    const allowed = this.scalarTypesOf(items, pointer);
    if (!allowed) return;
    add(
      `${node.jtype} = 'ARRAY' AND NOT COALESCE(list_bool_and(list_transform(json_type(${node.value}, '$[*]'), t -> t IN (${allowed.map(quotedString).join(', ')}))), TRUE)`,
      'must have items of the declared type',
    );
  }
}

function rootChild(root: Node, key: string, rootKeys: string): Node {
  const value = `${root.value}[${quotedString(key)}]`;
  // A MAP(VARCHAR, JSON) gives SQL NULL for a JSON null: tell it from a missing key by the key list.
  return { value, jtype: `COALESCE(json_type(${value}), CASE WHEN list_contains(${rootKeys}, ${quotedString(key)}) THEN 'NULL' END)`, path: `/${key}` };
}

/**
 * The checks of a table's schema over a record held as `mapExpr` (MAP(VARCHAR, JSON)) with its
 * keys in `keysExpr`.
 */
export function compileSqlValidator(spec: TableSpec, mapExpr: string, keysExpr: string, rootFields?: RootFields): SqlValidator {
  const compiler = new Compiler(rootFields);
  compiler.schema(spec.jsonSchema, { value: mapExpr, jtype: `'OBJECT'`, path: '' }, 'TRUE', '#', keysExpr);
  return { checks: compiler.checks, unsupported: compiler.unsupported };
}

/**
 * SQL giving a record's column value, typed exactly as the curated Parquet column. Casts are
 * TRY_CASTs because invalid records are typed too (and then dropped): for a record that passed
 * the checks every cast succeeds, which the differential test holds.
 */
export function typedColumnSql(field: Field, mapExpr: string, keysExpr: string, rootFields?: RootFields): string {
  return typedValue(field.type, rootFields?.(`/${field.jsonName}`) ?? rootChild({ value: mapExpr, jtype: `'OBJECT'`, path: '' }, field.jsonName, keysExpr), rootFields);
}

/**
 * The per-record columns that `RootFields` nodes refer to, in three SELECT layers (value, type,
 * text), each only referring to the one before.
 */
export function rootFieldColumns(spec: TableSpec, mapExpr: string, keysExpr: string): { layers: [string[], string[], string[]]; fields: RootFields; presentCount: string } {
  const nodes = new Map<string, Node>();
  const values: string[] = [];
  const types: string[] = [];
  const texts: string[] = [];
  const present: string[] = [];
  let next = 0;
  const add = (path: string, valueSql: string, typeSql: (v: string) => string): Node => {
    const i = next++;
    const v = quotedIdentifier(`v$${i}`);
    const t = quotedIdentifier(`t$${i}`);
    const x = quotedIdentifier(`x$${i}`);
    values.push(`${valueSql} AS ${v}`);
    types.push(`${typeSql(v)} AS ${t}`);
    const n = quotedIdentifier(`n$${i}`);
    texts.push(`CASE WHEN ${t} = 'VARCHAR' THEN ${v} ->> '$' END AS ${x}`, `CASE WHEN ${t} IN ${NUMERIC} THEN TRY_CAST(${v} AS DOUBLE) END AS ${n}`);
    const node = { value: v, jtype: t, path, text: x, number: n };
    nodes.set(path, node);
    return node;
  };
  // Struct members get columns of their own too: nested rules then cost no repeated JSON lookups.
  const addStructChildren = (parent: Node, type: LakeType): void => {
    if (type.kind !== 'struct') return;
    for (const f of type.fields) {
      const path = `${parent.path}/${f.jsonName}`;
      const child = add(path, `json_extract(${parent.value}, ${jsonKey(f.jsonName)})`, (v) => `json_type(${v})`);
      addStructChildren(child, f.type);
    }
  };
  for (const c of spec.columns) {
    const node = add(`/${c.jsonName}`, `${mapExpr}[${quotedString(c.jsonName)}]`, (v) => `COALESCE(json_type(${v}), CASE WHEN list_contains(${keysExpr}, ${quotedString(c.jsonName)}) THEN 'NULL' END)`);
    present.push(`(${node.jtype} IS NOT NULL)::INTEGER`);
    addStructChildren(node, c.type);
  }
  // How many declared properties a record has: fewer than its keys means it has unknown ones.
  return { layers: [values, types, texts], fields: (path) => nodes.get(path), presentCount: present.join(' + ') || '0' };
}

function typedValue(type: LakeType, node: Node, lookup?: RootFields): string {
  const present = `${node.jtype} IS NOT NULL AND ${node.jtype} <> 'NULL'`;
  let sql: string;
  switch (type.kind) {
    case 'string':
      sql = str(node);
      break;
    case 'timestamp':
      // Parquet holds UTC milliseconds, truncated (not rounded) like Trino's millisecond timestamps.
      sql = `CAST(CAST(date_trunc('millisecond', TRY_CAST(upper(${str(node)}) AS TIMESTAMPTZ)) AS TIMESTAMP) AS TIMESTAMP_MS)`;
      break;
    case 'date':
      sql = `TRY_CAST(${str(node)} AS DATE)`;
      break;
    case 'json':
      sql = `CAST(${node.value} AS VARCHAR)`;
      break;
    case 'struct':
      sql = `struct_pack(${type.fields.map((f) => `${quotedIdentifier(f.name)} := ${typedValue(f.type, lookup?.(`${node.path}/${f.jsonName}`) ?? childNode(node, f.jsonName), lookup)}`).join(', ')})`;
      break;
    default:
      sql = `TRY_CAST(${node.value} AS ${duckdbType(type)})`;
  }
  return `CASE WHEN ${present} THEN ${sql} END`;
}

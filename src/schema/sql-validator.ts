import { quotedIdentifier, quotedString } from '../base/sql.js';
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
  /** The instant of a date-time string (a precomputed column), NULL when it does not cast. */
  instant?: string;
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
 * RFC 3339 date-time as ajv-formats accepts it: `t` or any JavaScript `\s` as the separator
 * (RE2's `\s` is ASCII only, hence the extra classes), `z`, offsets with or without a colon or
 * minutes, hours 00-23, second 60 (a leap second, checked further in `format`); DuckDB's cast
 * then checks the calendar. DuckDB alone would take `24:00:00` and offsets like `+24:00`.
 */
export const DATE_TIME_REGEX =
  '^\\d{4}-\\d{2}-\\d{2}[Tt\\s\\x{0B}\\p{Z}\\x{FEFF}]([01]\\d|2[0-3]):[0-5]\\d:([0-5]\\d|60)(\\.\\d+)?([Zz]|[+-]([01]\\d|2[0-3])(:?[0-5]\\d)?)$';

/**
 * The instant of a date-time string that matched DATE_TIME_REGEX. DuckDB casts only a `T` or
 * space separator and no second 60: other separators become `T`, and a leap second is read as
 * second 59 (fraction kept), so the event keeps its UTC day. The common case skips the rewrite.
 */
function dateTimeSql(s: string): string {
  const usual = `substr(${s}, 11, 1) IN ('T', 't') AND substr(${s}, 18, 2) <> '60'`;
  const separator = `regexp_replace(upper(${s}), '^(\\d{4}-\\d{2}-\\d{2})[^0-9]', '\\1T')`;
  const leap = `regexp_replace(${separator}, '^(\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}):60', '\\1:59')`;
  return `TRY_CAST(CASE WHEN ${usual} THEN upper(${s}) ELSE ${leap} END AS TIMESTAMPTZ)`;
}
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
  constructor(
    private readonly rootFields?: RootFields,
    /** Instance paths of properties stored in bigint columns. */
    private readonly int64Columns: ReadonlySet<string> = new Set(),
  ) {}

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
          if (types.includes('integer') && !types.includes('number') && this.int64Columns.has(node.path)) {
            // The column is bigint (Parquet INT64): JSON Schema's integer has no such limit.
            add(
              `(${node.jtype} IN ('BIGINT', 'UBIGINT') AND TRY_CAST(${node.text ?? `CAST(${node.value} AS VARCHAR)`} AS BIGINT) IS NULL) OR (${node.jtype} = 'DOUBLE' AND (${num(node)} >= 9223372036854775808 OR ${num(node)} < -9223372036854775808))`,
              'must fit in a 64-bit integer',
            );
          }
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
          const test = new Compiler(this.rootFields, this.int64Columns);
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
      // Like ajv-formats, second 60 is valid only where the time is 23:59 in UTC.
      const instant = node.instant ?? dateTimeSql(s);
      const leapOk = `(substr(${s}, 18, 2) <> '60' OR strftime(${instant} AT TIME ZONE 'UTC', '%H:%M') = '23:59')`;
      add(`${when}NOT (regexp_full_match(${s}, ${quotedString(DATE_TIME_REGEX)}) AND ${instant} IS NOT NULL AND ${leapOk})`, 'must match format "date-time"');
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
  const int64 = new Set(spec.columns.filter((c) => c.type.kind === 'bigint').map((c) => `/${c.jsonName}`));
  const compiler = new Compiler(rootFields, int64);
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
 * The per-record columns that `RootFields` nodes refer to, in three SELECT layers, each only
 * referring to the one before. Records arrive as a STRUCT read by DuckDB's JSON reader with every
 * scalar property as VARCHAR (a conversion that never fails) and every nested one as JSON, plus
 * the type witness the framer wrote (see src/compaction/read/witness.ts): the witness gives each
 * property's JSON type, the VARCHAR gives its value.
 */
export function rootFieldColumns(spec: TableSpec, structExpr: string, witnessExpr: string): { layers: [string[], string[], string[]]; fields: RootFields } {
  const nodes = new Map<string, Node>();
  const values: string[] = [];
  const types: string[] = [];
  const derived: string[] = [];
  let next = 0;
  const column = (prefix: string, i: number): string => quotedIdentifier(`${prefix}$${i}`);
  // Struct members get columns of their own too: nested rules then cost no repeated JSON lookups.
  const addStructChildren = (parent: Node, type: LakeType): void => {
    if (type.kind !== 'struct') return;
    for (const f of type.fields) {
      const i = next++;
      const v = column('v', i);
      const t = column('t', i);
      const x = column('x', i);
      const n = column('n', i);
      values.push(`json_extract(${parent.value}, ${jsonKey(f.jsonName)}) AS ${v}`);
      types.push(`json_type(${v}) AS ${t}`);
      derived.push(`CASE WHEN ${t} = 'VARCHAR' THEN ${v} ->> '$' END AS ${x}`, `CASE WHEN ${t} IN ${NUMERIC} THEN TRY_CAST(${v} AS DOUBLE) END AS ${n}`);
      const node: Node = { value: v, jtype: t, path: `${parent.path}/${f.jsonName}`, text: x, number: n };
      nodes.set(node.path, node);
      addStructChildren(node, f.type);
    }
  };
  spec.columns.forEach((c, position) => {
    const i = next++;
    const v = column('v', i);
    const t = column('t', i);
    const n = column('n', i);
    values.push(`${structExpr}.${quotedIdentifier(c.jsonName)} AS ${v}`);
    const cases = Object.entries(WITNESS_TYPES).map(([k, type]) => `WHEN '${k}' THEN '${type}'`).join(' ');
    types.push(`CASE substr(${witnessExpr}, ${position + 1}, 1) ${cases} END AS ${t}`);
    const nested = carrierIsJson(c.type);
    if (!nested) derived.push(`CASE WHEN ${t} IN ${NUMERIC} THEN TRY_CAST(${v} AS DOUBLE) END AS ${n}`);
    const node: Node = nested ? { value: v, jtype: t, path: `/${c.jsonName}` } : { value: v, jtype: t, path: `/${c.jsonName}`, text: v, number: n };
    if (c.type.kind === 'timestamp') {
      // Parsed once: the format rule and the typed column both need the instant.
      const ts = column('ts', i);
      derived.push(`CASE WHEN ${t} = 'VARCHAR' THEN ${dateTimeSql(v)} END AS ${ts}`);
      node.instant = ts;
    }
    nodes.set(node.path, node);
    addStructChildren(node, c.type);
  });
  return { layers: [values, types, derived], fields: (path) => nodes.get(path) };
}

/** Witness characters (src/compaction/read/witness.ts) and the json_type() name each stands for. */
const WITNESS_TYPES: Record<string, string> = { z: 'NULL', s: 'VARCHAR', i: 'BIGINT', f: 'DOUBLE', b: 'BOOLEAN', o: 'OBJECT', a: 'ARRAY' };

function carrierIsJson(type: LakeType): boolean {
  return type.kind === 'struct' || type.kind === 'map' || type.kind === 'array' || type.kind === 'json';
}

/**
 * The STRUCT type DuckDB's JSON reader fills for one event: scalar properties as VARCHAR (JSON
 * numbers and booleans arrive as their text), nested ones as JSON.
 */
export function carrierStructType(spec: TableSpec): string {
  return `STRUCT(${spec.columns.map((c) => `${quotedIdentifier(c.jsonName)} ${carrierIsJson(c.type) ? 'JSON' : 'VARCHAR'}`).join(', ')})`;
}

/**
 * An instant as TIMESTAMP_MS: UTC milliseconds, floored (not rounded) like Trino's millisecond
 * timestamps, also before 1970. Arithmetic on epoch microseconds: date_trunc and casts on a
 * TIMESTAMPTZ go through ICU's calendar and cost ~15x more (0.5 s per million events).
 */
function utcMillis(instant: string): string {
  const us = `epoch_us(${instant})`;
  return `CAST(make_timestamp(${us} - (${us} % 1000 + 1000) % 1000) AS TIMESTAMP_MS)`;
}

function typedValue(type: LakeType, node: Node, lookup?: RootFields): string {
  const present = `${node.jtype} IS NOT NULL AND ${node.jtype} <> 'NULL'`;
  let sql: string;
  switch (type.kind) {
    case 'string':
      sql = str(node);
      break;
    case 'timestamp':
      sql = utcMillis(node.instant ?? dateTimeSql(str(node)));
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
    case 'int':
    case 'bigint':
      sql = node.number ? `COALESCE(TRY_CAST(${node.value} AS ${duckdbType(type)}), TRY_CAST(${node.number} AS ${duckdbType(type)}))` : `TRY_CAST(${node.value} AS ${duckdbType(type)})`;
      break;
    case 'double':
      sql = node.number ?? `TRY_CAST(${node.value} AS DOUBLE)`;
      break;
    default:
      sql = `TRY_CAST(${node.value} AS ${duckdbType(type)})`;
  }
  return `CASE WHEN ${present} THEN ${sql} END`;
}

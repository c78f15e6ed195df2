/**
 * The catalog plan as data: every difference between what the schemas want and what Glue holds is
 * one plain object in a union keyed by `type`. Planning (plan.ts) produces them without I/O,
 * rendering (render.ts, render-plan.ts) turns them into Glue calls or text, and applying
 * (apply.ts) runs those calls.
 *
 * Every table change records the live table's `VersionId` it was planned against, so apply can
 * pass it to UpdateTable (Glue's optimistic lock) and a stale saved plan can be refused.
 */
import type { Column, DatabaseInput, TableInput } from '@aws-sdk/client-glue';

interface TableChangeBase {
  database: string;
  table: string;
  /** True when existing data may become unreadable or queries may break: apply needs `--allow-breaking`. */
  breaking: boolean;
  /** The live table's VersionId the change was planned against; null when the table does not exist yet. */
  versionId: string | null;
}

/** The database is missing: CreateDatabase. */
export interface CreateDatabaseChange {
  type: 'create_database';
  database: string;
  input: DatabaseInput;
  breaking: false;
  versionId: null;
}

/** The table is missing: CreateTable with the full desired definition. */
export interface CreateTableChange extends TableChangeBase {
  type: 'create_table';
  input: TableInput;
  breaking: false;
  versionId: null;
}

/** New data columns. Additive: Parquet and JSON readers match columns by name, old files read NULL. */
export interface AddColumnsChange extends TableChangeBase {
  type: 'add_columns';
  /** Each new column with the column it follows in the desired order (null: first), so the result keeps the schema's order. */
  columns: Array<{ column: Column; after: string | null }>;
  breaking: false;
  versionId: string;
}

/** Which part of a table definition a property change touches. */
export type TableField =
  | 'Description'
  | 'TableType'
  | 'Location'
  | 'InputFormat'
  | 'OutputFormat'
  | 'SerializationLibrary'
  /** A table parameter (`key` set): projection, classification, compression, ... */
  | 'Parameters'
  /** A SerDe parameter (`key` set): JSON key mappings, ignore.malformed.json, ... */
  | 'SerdeParameters'
  /** A data column's comment (`key` is the column name). */
  | 'ColumnComment';

/** One property's old and new value; null means absent (set a new key / remove a key). */
export interface PropertyChange {
  field: TableField;
  key?: string;
  from: string | null;
  to: string | null;
}

/** Projection, location, SerDe and its parameters, formats, description, column comments. Not breaking. */
export interface UpdateTablePropertiesChange extends TableChangeBase {
  type: 'update_table_properties';
  properties: PropertyChange[];
  breaking: false;
  versionId: string;
}

/** A column keeps its name but changes type. Breaking unless the new type only widens the old one. */
export interface ChangeColumnTypeChange extends TableChangeBase {
  type: 'change_column_type';
  column: string;
  from: string;
  to: string;
  versionId: string;
}

/** A column the schemas no longer have. Breaking: queries that read it fail. */
export interface DropColumnChange extends TableChangeBase {
  type: 'drop_column';
  column: string;
  breaking: true;
  versionId: string;
}

/**
 * A column renamed (decided by the rename resolver, never guessed). Breaking: existing Parquet
 * files hold the old name, and Athena matches Parquet columns by name, so old rows read NULL.
 */
export interface RenameColumnChange extends TableChangeBase {
  type: 'rename_column';
  from: string;
  to: string;
  /** The column under its new name (type and comment as desired). */
  column: Column;
  breaking: true;
  versionId: string;
}

/** Partition keys differ. Breaking: every partition location and projection depends on them. */
export interface ChangePartitionKeysChange extends TableChangeBase {
  type: 'change_partition_keys';
  from: Column[];
  to: Column[];
  breaking: true;
  versionId: string;
}

/** One difference between the desired and the live catalog. */
export type CatalogChange =
  | CreateDatabaseChange
  | CreateTableChange
  | AddColumnsChange
  | UpdateTablePropertiesChange
  | ChangeColumnTypeChange
  | DropColumnChange
  | RenameColumnChange
  | ChangePartitionKeysChange;

/** Changes to an existing table (everything but create_database / create_table). */
export type TableUpdateChange = Exclude<CatalogChange, CreateDatabaseChange | CreateTableChange>;

/** The live table definition a plan's updates are applied on top of (Glue's UpdateTable replaces the whole definition). */
export interface TableBaseline {
  versionId: string;
  input: TableInput;
}

/** Marks a file as a clicklake catalog plan. */
export const PLAN_FORMAT = 'clicklake-catalog-plan';

/**
 * A saved plan (`catalog plan --out plan.json`): the changes, and for every table it updates the
 * live definition they were computed from. `apply plan.json` applies exactly this.
 */
export interface CatalogPlan {
  format: typeof PLAN_FORMAT;
  version: 1;
  database: string;
  /** ISO time the plan was made (from the injected clock). */
  createdAt: string;
  changes: CatalogChange[];
  /** Live definitions of the tables the changes update, by table name. */
  baselines: Record<string, TableBaseline>;
}

/** `database.table`, or just `database` for create_database. */
export function changeTarget(change: CatalogChange): string {
  return change.type === 'create_database' ? change.database : `${change.database}.${change.table}`;
}

export function isTableUpdate(change: CatalogChange): change is TableUpdateChange {
  return change.type !== 'create_database' && change.type !== 'create_table';
}

// Which Glue column type changes existing data files survive. Athena reads a Parquet column
// declared `bigint` over INT32 data but fails on `int` over INT64 data, and matches struct fields
// by name, so a type change is safe only when the new type can hold every value the old one could.
const INTEGER_RANK: Record<string, number> = { tinyint: 1, smallint: 2, int: 3, integer: 3, bigint: 4 };
const FLOAT_RANK: Record<string, number> = { float: 1, real: 1, double: 2 };

/** Lowercase with no whitespace: Glue keeps types as written, `struct<a: int>` equals `struct<a:int>`. */
export function normalizeGlueType(type: string | undefined): string {
  return (type ?? '').toLowerCase().replace(/\s+/g, '');
}

/** Splits `a,b<c,d>,e` at top-level commas. */
function splitTopLevel(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '<' || ch === '(') depth++;
    else if (ch === '>' || ch === ')') depth--;
    else if (ch === ',' && depth === 0) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts;
}

/** `struct<...>` -> `...`, or undefined when `type` is not `<kind><...>`. */
function inner(type: string, kind: string): string | undefined {
  return type.startsWith(`${kind}<`) && type.endsWith('>') ? type.slice(kind.length + 1, -1) : undefined;
}

function structFields(body: string): Map<string, string> | undefined {
  const fields = new Map<string, string>();
  for (const part of splitTopLevel(body)) {
    const colon = part.indexOf(':');
    if (colon <= 0) return undefined;
    fields.set(part.slice(0, colon).replace(/^`|`$/g, ''), part.slice(colon + 1));
  }
  return fields;
}

/**
 * True when data written for a column of type `from` stays readable after the column is declared
 * `to`: the same type, a wider integer (`int` -> `bigint`), `float` -> `double`, a struct gaining
 * fields (existing fields kept with compatible types), or arrays / maps of such elements.
 *
 * @example
 * isWideningTypeChange('int', 'bigint'); // true
 * isWideningTypeChange('string', 'int'); // false
 * isWideningTypeChange('struct<w:int>', 'struct<w:int,h:int>'); // true
 */
export function isWideningTypeChange(fromType: string, toType: string): boolean {
  const from = normalizeGlueType(fromType);
  const to = normalizeGlueType(toType);
  if (from === to) return true;
  if (INTEGER_RANK[from] !== undefined && INTEGER_RANK[to] !== undefined) return INTEGER_RANK[from]! < INTEGER_RANK[to]!;
  if (FLOAT_RANK[from] !== undefined && FLOAT_RANK[to] !== undefined) return FLOAT_RANK[from]! < FLOAT_RANK[to]!;
  const fromArray = inner(from, 'array');
  const toArray = inner(to, 'array');
  if (fromArray !== undefined && toArray !== undefined) return isWideningTypeChange(fromArray, toArray);
  const fromMap = inner(from, 'map');
  const toMap = inner(to, 'map');
  if (fromMap !== undefined && toMap !== undefined) {
    const [fk, fv, ...fr] = splitTopLevel(fromMap);
    const [tk, tv, ...tr] = splitTopLevel(toMap);
    if (fk === undefined || fv === undefined || tk === undefined || tv === undefined || fr.length || tr.length) return false;
    return fk === tk && isWideningTypeChange(fv, tv);
  }
  const fromStruct = inner(from, 'struct');
  const toStruct = inner(to, 'struct');
  if (fromStruct !== undefined && toStruct !== undefined) {
    const f = structFields(fromStruct);
    const t = structFields(toStruct);
    if (!f || !t) return false;
    for (const [name, type] of f) {
      const next = t.get(name);
      if (next === undefined || !isWideningTypeChange(type, next)) return false;
    }
    return true;
  }
  return false;
}

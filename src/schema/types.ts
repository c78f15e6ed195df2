/**
 * The column model: what every other part of clicklake (catalog, validator, Parquet writer, query
 * engine) reads instead of JSON Schema. Produced by `buildTableSpec` from one schema file.
 */

/** A column's type. Scalars map 1:1 to Glue types; `json` holds the JSON text of an untyped value. */
export type LakeType =
  | { kind: 'string' }
  | { kind: 'timestamp' }
  | { kind: 'date' }
  | { kind: 'int' }
  | { kind: 'bigint' }
  | { kind: 'double' }
  | { kind: 'boolean' }
  | { kind: 'json' }
  | { kind: 'struct'; fields: Field[] }
  | { kind: 'map'; value: LakeType }
  | { kind: 'array'; element: LakeType };

export type ScalarKind = Exclude<LakeType['kind'], 'struct' | 'map' | 'array'>;

/** A named member of a table or struct. */
export interface Field {
  /** Lower snake_case name used in Glue, Parquet and SQL. */
  name: string;
  /** Property name in the JSON events. */
  jsonName: string;
  type: LakeType;
  /** False only for required properties whose schema does not allow null. */
  nullable: boolean;
  /** JSON pointer of the property's schema, for error messages. */
  pointer: string;
  description?: string;
}

/** Table-level settings from the schema's `x-lake` block. */
export interface LakeSettings {
  /** Glue table name of the curated table; the raw table is `<table>_raw`. */
  table: string;
  /** JSON property holding the event time (format date-time). */
  eventTime: string;
  /** JSON property holding the unique event id. */
  eventId: string;
  /** First partition date (YYYY-MM-DD) of the curated table's projection range. */
  partitionStart: string;
  /** JSON properties the rows of a Parquet file are sorted by. */
  sortKeys: string[];
}

/** Everything clicklake derives from one schema file. */
export interface TableSpec {
  /** Curated table name (x-lake.table). */
  name: string;
  description?: string;
  settings: LakeSettings;
  columns: Field[];
  /** Column names of settings.eventTime / eventId / sortKeys after snake_case conversion. */
  eventTimeColumn: string;
  eventIdColumn: string;
  sortColumns: string[];
  /** The schema document itself, for the Ajv validator. */
  jsonSchema: Record<string, unknown>;
  /** Where the schema came from (file path or `<inline>`), for messages. */
  source: string;
}

import type { LakeType } from './types.js';
import { quotedIdentifier } from '../base/sql.js';

/** The Glue / Athena (Hive DDL) type string, e.g. `struct<width:int,height:int>`. */
export function glueType(type: LakeType): string {
  switch (type.kind) {
    case 'json':
      return 'string';
    case 'struct':
      return `struct<${type.fields.map((f) => `${f.name}:${glueType(f.type)}`).join(',')}>`;
    case 'map':
      return `map<string,${glueType(type.value)}>`;
    case 'array':
      return `array<${glueType(type.element)}>`;
    default:
      return type.kind;
  }
}

/**
 * The DuckDB type whose Parquet encoding Athena reads as `glueType(type)`: timestamps are
 * TIMESTAMP_MS (INT64 millis, not UTC-adjusted), int is INTEGER (INT32), never UUID or HUGEINT.
 */
export function duckdbType(type: LakeType): string {
  switch (type.kind) {
    case 'string':
    case 'json':
      return 'VARCHAR';
    case 'timestamp':
      return 'TIMESTAMP_MS';
    case 'date':
      return 'DATE';
    case 'int':
      return 'INTEGER';
    case 'bigint':
      return 'BIGINT';
    case 'double':
      return 'DOUBLE';
    case 'boolean':
      return 'BOOLEAN';
    case 'struct':
      return `STRUCT(${type.fields.map((f) => `${quotedIdentifier(f.name)} ${duckdbType(f.type)}`).join(', ')})`;
    case 'map':
      return `MAP(VARCHAR, ${duckdbType(type.value)})`;
    case 'array':
      return `${duckdbType(type.element)}[]`;
  }
}

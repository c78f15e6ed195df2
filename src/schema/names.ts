/**
 * Column naming. Glue lowercases names and Athena matches Parquet columns by name, so every
 * column is lower snake_case, and reserved words are quoted wherever SQL is written.
 */

/** `scrollDepthPct` -> `scroll_depth_pct`, `pageURL` -> `page_url`, `Item-Name` -> `item_name`. */
export function toSnakeCase(name: string): string {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1_$2')
    .replace(/[^A-Za-z0-9_]+/g, '_')
    .replace(/_+/g, '_')
    .replace(/^_|_$/g, '')
    .toLowerCase();
}

/**
 * Words that must be quoted in Athena DDL (Hive) or DML (Trino). The union of both lists: a
 * column is quoted everywhere if either engine reserves the word.
 */
export const RESERVED_WORDS: ReadonlySet<string> = new Set([
  'all', 'alter', 'and', 'array', 'as', 'authorization', 'between', 'bigint', 'binary', 'boolean', 'both', 'by',
  'case', 'cache', 'cast', 'char', 'column', 'commit', 'conf', 'constraint', 'create', 'cross', 'cube', 'current',
  'current_catalog', 'current_date', 'current_path', 'current_role', 'current_schema', 'current_time',
  'current_timestamp', 'current_user', 'cursor', 'database', 'date', 'day', 'deallocate', 'decimal', 'delete',
  'describe', 'distinct', 'double', 'drop', 'else', 'end', 'escape', 'exchange', 'execute', 'exists', 'extended',
  'external', 'extract', 'false', 'fetch', 'float', 'floor', 'following', 'for', 'foreign', 'from', 'full',
  'function', 'grant', 'group', 'grouping', 'having', 'hour', 'if', 'import', 'in', 'inner', 'insert', 'int',
  'integer', 'intersect', 'interval', 'into', 'is', 'join', 'json_array', 'json_exists', 'json_object',
  'json_query', 'json_table', 'json_value', 'lateral', 'left', 'less', 'like', 'listagg', 'local', 'localtime',
  'localtimestamp', 'macro', 'map', 'minute', 'month', 'more', 'natural', 'none', 'normalize', 'not', 'null',
  'numeric', 'of', 'on', 'only', 'or', 'order', 'out', 'outer', 'over', 'partialscan', 'partition', 'percent',
  'position', 'preceding', 'precision', 'prepare', 'preserve', 'primary', 'procedure', 'range', 'reads',
  'recursive', 'reduce', 'references', 'regexp', 'revoke', 'right', 'rlike', 'rollback', 'rollup', 'row', 'rows',
  'second', 'select', 'set', 'skip', 'smallint', 'start', 'table', 'tablesample', 'then', 'time', 'timestamp', 'to',
  'transform', 'trigger', 'trim', 'true', 'truncate', 'uescape', 'union', 'unique', 'unnest', 'update', 'user',
  'using', 'utc_timestamp', 'values', 'varchar', 'when', 'where', 'window', 'with', 'year',
]);

export function isReservedWord(name: string): boolean {
  return RESERVED_WORDS.has(name.toLowerCase());
}

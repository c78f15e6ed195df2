/** The only places SQL text is quoted. Values should be bound as parameters wherever DuckDB allows. */

/** 'it''s' — a SQL string literal. */
export function quotedString(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

/** "position" — an identifier quoted for DuckDB / Trino DML. */
export function quotedIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** `position` — an identifier quoted for Hive DDL (Athena CREATE EXTERNAL TABLE). */
export function backtickIdentifier(name: string): string {
  return `\`${name.replaceAll('`', '``')}\``;
}

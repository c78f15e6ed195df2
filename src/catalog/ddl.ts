import type { TableInput } from '@aws-sdk/client-glue';
import { backtickIdentifier } from '../base/sql.js';
import { OPENX_JSON_SERDE, PARQUET_SERDE } from './table-input.js';

/**
 * 'it\'s' — a Hive string literal. Hive escapes with backslashes: a doubled quote (`'it''s'`)
 * is two adjacent literals that Hive concatenates to `its`.
 */
export function hiveString(value: string): string {
  return `'${value.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`;
}

/**
 * A Glue type string as written in Hive DDL: struct field names in backticks, since a field may
 * be a reserved word (`struct<date:int>` does not parse, struct<`date`:int> does).
 */
export function ddlType(glueType: string): string {
  return glueType.replace(/([<,])([^<>,:`]+):/g, (_m, before: string, name: string) => `${before}${backtickIdentifier(name)}:`);
}

/**
 * Athena `CREATE EXTERNAL TABLE` for a Glue TableInput: rendered from the same object the Glue
 * API receives, so the DDL and the API path cannot disagree.
 */
export function renderCreateTable(input: TableInput, database?: string): string {
  const sd = input.StorageDescriptor ?? {};
  const name = database ? `${backtickIdentifier(database)}.${backtickIdentifier(input.Name!)}` : backtickIdentifier(input.Name!);
  const columnLine = (c: { Name?: string; Type?: string; Comment?: string }): string =>
    `  ${backtickIdentifier(c.Name!)} ${ddlType(c.Type ?? '')}${c.Comment ? ` COMMENT ${hiveString(c.Comment)}` : ''}`;
  const props = (params: Record<string, string>): string =>
    Object.entries(params)
      .map(([k, v]) => `  ${hiveString(k)}=${hiveString(v)}`)
      .join(',\n');

  const lines = [`CREATE EXTERNAL TABLE IF NOT EXISTS ${name} (`, (sd.Columns ?? []).map(columnLine).join(',\n'), ')'];
  if (input.Description) lines.push(`COMMENT ${hiveString(input.Description)}`);
  if (input.PartitionKeys?.length) lines.push(`PARTITIONED BY (${input.PartitionKeys.map((c) => `${backtickIdentifier(c.Name!)} ${c.Type}`).join(', ')})`);
  const serde = sd.SerdeInfo?.SerializationLibrary;
  if (serde === PARQUET_SERDE) {
    lines.push('STORED AS PARQUET');
  } else {
    lines.push(`ROW FORMAT SERDE ${hiveString(serde ?? OPENX_JSON_SERDE)}`);
    const serdeParams = sd.SerdeInfo?.Parameters ?? {};
    if (Object.keys(serdeParams).length) lines.push(`WITH SERDEPROPERTIES (\n${props(serdeParams)}\n)`);
    lines.push(`STORED AS INPUTFORMAT ${hiveString(sd.InputFormat ?? '')}`, `OUTPUTFORMAT ${hiveString(sd.OutputFormat ?? '')}`);
  }
  lines.push(`LOCATION ${hiveString(sd.Location ?? '')}`);
  const tableProps = Object.fromEntries(Object.entries(input.Parameters ?? {}).filter(([k]) => k !== 'EXTERNAL'));
  if (Object.keys(tableProps).length) lines.push(`TBLPROPERTIES (\n${props(tableProps)}\n)`);
  return `${lines.join('\n')};`;
}

import type { TableInput } from '@aws-sdk/client-glue';
import { backtickIdentifier, quotedString } from '../query/sql.js';
import { OPENX_JSON_SERDE, PARQUET_SERDE } from './table-input.js';

/**
 * Athena `CREATE EXTERNAL TABLE` for a Glue TableInput: rendered from the same object the Glue
 * API receives, so the DDL and the API path cannot disagree.
 */
export function renderCreateTable(input: TableInput, database?: string): string {
  const sd = input.StorageDescriptor ?? {};
  const name = database ? `${backtickIdentifier(database)}.${backtickIdentifier(input.Name!)}` : backtickIdentifier(input.Name!);
  const columnLine = (c: { Name?: string; Type?: string; Comment?: string }): string =>
    `  ${backtickIdentifier(c.Name!)} ${c.Type}${c.Comment ? ` COMMENT ${quotedString(c.Comment)}` : ''}`;
  const props = (params: Record<string, string>): string =>
    Object.entries(params)
      .map(([k, v]) => `  ${quotedString(k)}=${quotedString(v)}`)
      .join(',\n');

  const lines = [`CREATE EXTERNAL TABLE IF NOT EXISTS ${name} (`, (sd.Columns ?? []).map(columnLine).join(',\n'), ')'];
  if (input.Description) lines.push(`COMMENT ${quotedString(input.Description)}`);
  if (input.PartitionKeys?.length) lines.push(`PARTITIONED BY (${input.PartitionKeys.map((c) => `${backtickIdentifier(c.Name!)} ${c.Type}`).join(', ')})`);
  const serde = sd.SerdeInfo?.SerializationLibrary;
  if (serde === PARQUET_SERDE) {
    lines.push('STORED AS PARQUET');
  } else {
    lines.push(`ROW FORMAT SERDE ${quotedString(serde ?? OPENX_JSON_SERDE)}`);
    const serdeParams = sd.SerdeInfo?.Parameters ?? {};
    if (Object.keys(serdeParams).length) lines.push(`WITH SERDEPROPERTIES (\n${props(serdeParams)}\n)`);
    lines.push(`STORED AS INPUTFORMAT ${quotedString(sd.InputFormat ?? '')}`, `OUTPUTFORMAT ${quotedString(sd.OutputFormat ?? '')}`);
  }
  lines.push(`LOCATION ${quotedString(sd.Location ?? '')}`);
  const tableProps = Object.fromEntries(Object.entries(input.Parameters ?? {}).filter(([k]) => k !== 'EXTERNAL'));
  if (Object.keys(tableProps).length) lines.push(`TBLPROPERTIES (\n${props(tableProps)}\n)`);
  return `${lines.join('\n')};`;
}

import type { Command } from 'commander';
import { renderCreateTable } from '../catalog/ddl.js';
import { tableInputs, type CatalogTarget } from '../catalog/table-input.js';
import { loadSchemas } from '../schema/load.js';
import type { TableSpec } from '../schema/types.js';
import { ClicklakeError } from '../errors.js';
import type { CliIO } from './io.js';
import path from 'node:path';

interface TargetFlags {
  bucket: string;
  prefix?: string;
  database: string;
  table?: string;
  schemas?: string;
  compression: 'ZSTD' | 'SNAPPY';
}

export async function selectTables(io: CliIO, schemasDir: string | undefined, table: string | undefined): Promise<TableSpec[]> {
  const specs = await loadSchemas(schemasDir ? path.resolve(io.cwd, schemasDir) : undefined);
  if (!table) return specs;
  const picked = specs.filter((s) => s.name === table || `${s.name}_raw` === table);
  if (!picked.length) {
    throw new ClicklakeError('unknown_table', `no schema declares table "${table}"; known tables: ${specs.map((s) => s.name).join(', ')}`, { table });
  }
  return picked;
}

function targetOf(flags: TargetFlags): CatalogTarget {
  const target: CatalogTarget = { bucket: flags.bucket, compression: flags.compression };
  if (flags.prefix) target.rootPrefix = flags.prefix;
  return target;
}

function addTargetOptions(cmd: Command): Command {
  return cmd
    .requiredOption('--bucket <name>', 'S3 bucket of the lake')
    .option('--prefix <prefix>', 'key prefix of the lake inside the bucket')
    .option('--database <db>', 'Glue database', 'clicklake')
    .option('--table <name>', 'only this table (default: every schema)')
    .option('--schemas <dir>', 'directory of *.schema.json files')
    .option('--compression <codec>', 'Parquet codec of curated files: ZSTD or SNAPPY', 'ZSTD');
}

export function registerCatalogCommands(program: Command, io: CliIO): Command {
  const catalog = program.command('catalog').description('Glue Data Catalog tables derived from the schemas');
  addTargetOptions(catalog.command('ddl'))
    .description('print Athena CREATE EXTERNAL TABLE statements for the raw and curated tables')
    .action(async (flags: TargetFlags) => {
      const target = targetOf(flags);
      const statements = (await selectTables(io, flags.schemas, flags.table)).flatMap((spec) =>
        tableInputs(spec, target)
          .filter((t) => !flags.table || flags.table === spec.name || t.Name === flags.table)
          .map((t) => renderCreateTable(t, flags.database)),
      );
      io.stdout.write(`${statements.join('\n\n')}\n`);
    });
  addTargetOptions(catalog.command('table-input'))
    .description('print the Glue TableInput JSON (CreateTable / UpdateTable input) for each table')
    .action(async (flags: TargetFlags) => {
      const target = targetOf(flags);
      const inputs = (await selectTables(io, flags.schemas, flags.table)).flatMap((spec) => tableInputs(spec, target));
      io.stdout.write(`${JSON.stringify(flags.table ? inputs.filter((t) => t.Name === flags.table || flags.table === t.Name?.replace(/_raw$/, '')) : inputs, null, 2)}\n`);
    });
  return catalog;
}

import type { Command } from 'commander';
import { catalogTarget } from '../catalog/target.js';
import { ClicklakeError } from '../errors.js';
import { compactionLambdaPolicy } from '../iam/policy.js';
import { loadSchemas } from '../schema/load.js';
import { addConfigOption, settingsFor, type ConfigFlags } from './config-flags.js';
import type { CliIO } from './io.js';

interface IamFlags extends ConfigFlags {
  table?: string;
  region: string;
  account: string;
}

export function registerIamCommands(program: Command, io: CliIO): Command {
  return addConfigOption(program.command('iam-policy'))
    .description('print the least-privilege IAM policy JSON of the compaction Lambda')
    .option('--bucket <name>', 'S3 bucket of the lake (default: from "lake" in the config)')
    .option('--prefix <prefix>', 'key prefix of the lake inside the bucket')
    .option('--database <db>', 'Glue database (default: clicklake)')
    .option('--schemas <dir>', 'directory of *.schema.json files')
    .option('--table <name>', 'only this curated table (default: every schema)')
    .option('--region <region>', 'region in the Glue / KMS ARNs', '*')
    .option('--account <id>', 'account id in the Glue / KMS ARNs', '*')
    .action(async (flags: IamFlags) => {
      const settings = await settingsFor(io, flags);
      const target = catalogTarget(settings);
      const specs = await loadSchemas(settings.schemasDir);
      const tables = specs.map((s) => s.name).filter((name) => !flags.table || name === flags.table);
      if (tables.length === 0) {
        throw new ClicklakeError('unknown_table', `no schema declares curated table "${flags.table}"; known tables: ${specs.map((s) => s.name).join(', ')}`, { table: flags.table });
      }
      const policy = compactionLambdaPolicy({
        bucket: target.bucket,
        prefix: settings.prefix,
        layout: settings.layout,
        tables,
        database: settings.database,
        region: flags.region,
        account: flags.account,
        ...(settings.sse ? { sse: settings.sse } : {}),
      });
      io.stdout.write(`${JSON.stringify(policy, null, 2)}\n`);
    });
}

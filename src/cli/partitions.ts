import { GlueClient } from '@aws-sdk/client-glue';
import type { Command } from 'commander';
import { syncPartitions, type PartitionSyncResult } from '../catalog/partitions-sync.js';
import { ClicklakeError } from '../errors.js';
import { loadSchemas } from '../schema/load.js';
import { openStore } from '../storage/open.js';
import { addConfigOption, settingsFor, type ConfigFlags } from './config-flags.js';
import { ExitCode, type CliIO } from './io.js';

interface SyncFlags extends ConfigFlags {
  table?: string;
  json?: boolean;
}

function describe(result: PartitionSyncResult): string {
  const lines = [
    `${result.table}: ${result.manifests} manifest(s), ${result.dts.length} dt partition(s): ${result.created.length} registered, ${result.alreadyRegistered} already registered, ${result.failed.length} failed (${result.batches} BatchCreatePartition call(s))`,
    ...result.failed.map((f) => `  failed dt=${f.dt}: ${f.code}: ${f.message}`),
  ];
  if (result.projectionEnabled) lines.push(`  note: ${result.table} has partition projection on, so Athena ignores registered partitions (set "projection": false and run catalog apply to use them)`);
  return `${lines.join('\n')}\n`;
}

export function registerPartitionsCommands(program: Command, io: CliIO): Command {
  const partitions = program.command('partitions').description('Glue partitions of the curated tables (only needed with partition projection off)');
  addConfigOption(partitions.command('sync'))
    .description('register every curated dt partition the compaction manifests list and Glue lacks (BatchCreatePartition, 100 per call)')
    .option('--lake <uri>', 'lake root: s3://bucket/prefix, file://dir or a directory (default: from the config)')
    .option('--database <db>', 'Glue database (default: clicklake)')
    .option('--schemas <dir>', 'directory of *.schema.json files')
    .option('--table <name>', 'only this curated table (default: every schema)')
    .option('--json', 'print the results as JSON')
    .action(async (flags: SyncFlags) => {
      const settings = await settingsFor(io, flags);
      if (!settings.lake) {
        throw new ClicklakeError('lake_required', 'no lake configured: pass --lake s3://bucket/prefix or set "lake" in clicklake.config.json', {});
      }
      const specs = await loadSchemas(settings.schemasDir);
      const tables = flags.table ? specs.filter((s) => s.name === flags.table).map((s) => s.name) : specs.map((s) => s.name);
      if (tables.length === 0) {
        throw new ClicklakeError('unknown_table', `no schema declares curated table "${flags.table}"; known tables: ${specs.map((s) => s.name).join(', ')}`, { table: flags.table });
      }
      const store = openStore(settings.lake);
      const glue = new GlueClient({});
      const results: PartitionSyncResult[] = [];
      try {
        for (const table of tables) {
          const result = await syncPartitions({ glue, store, layout: settings.layout, database: settings.database, table });
          results.push(result);
          if (!flags.json) io.stdout.write(describe(result));
        }
      } finally {
        glue.destroy();
      }
      if (flags.json) io.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
      const failed = results.reduce((n, r) => n + r.failed.length, 0);
      if (failed > 0) {
        io.stderr.write(`error: ${failed} partition(s) could not be registered (see above): fix the cause and run the sync again\n`);
        throw new ExitCode(1);
      }
    });
  return partitions;
}

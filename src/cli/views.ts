import { AthenaClient } from '@aws-sdk/client-athena';
import type { Command } from 'commander';
import type { Settings } from '../config/settings.js';
import { ClicklakeError } from '../errors.js';
import { applyViewsOnAthena, type ViewResult } from '../query/athena.js';
import { applyViewsLocally, localTablesOf, openLocalEngine, type LocalTable } from '../query/local-engine.js';
import { loadViews } from '../query/views.js';
import { loadSchemas } from '../schema/load.js';
import { addAthenaOptions, addConfigOption, DEFAULT_LAKE, lakeOrDefault, settingsFor, type ConfigFlags } from './config-flags.js';
import type { CliIO } from './io.js';

interface ViewsFlags extends ConfigFlags {
  athena?: boolean;
  json?: boolean;
}

/** The curated tables of the schemas, as the local engine registers them. */
export async function localTables(settings: Settings): Promise<LocalTable[]> {
  return localTablesOf(await loadSchemas(settings.schemasDir));
}

/** The `file://` lake the local engine reads (the default lake when none is set), or a clear error. */
export function localLakeOf(settings: Settings, cwd: string): string {
  const lake = lakeOrDefault(settings, cwd);
  if (!lake.startsWith('file://')) {
    throw new ClicklakeError('local_lake_required', `the local engine reads a file:// lake, not ${lake}: pass --lake file://./lake, or add --athena to run on Athena`, { lake });
  }
  return lake;
}

/** `--athena`, `--lake`, `--schemas`, `--views`: which engine, and where the local one reads. */
export function addLocalOptions(cmd: Command): Command {
  return cmd
    .option('--athena', 'run on Amazon Athena (default: the local DuckDB engine over a file:// lake)')
    .option('--lake <uri>', `local lake for the local engine: a directory or file:// URI (default: config "lake", else ${DEFAULT_LAKE})`)
    .option('--schemas <dir>', 'directory of *.schema.json files')
    .option('--views <dir>', 'directory of the views *.sql (default: the views clicklake ships)');
}

function renderViewResults(results: ViewResult[]): string {
  const width = 'notExecuted'.length;
  const lines = results.map((r) => `${r.status.padEnd(width)}  ${r.name}${r.error ? `  (${r.error})` : ''}`);
  return `${lines.join('\n')}\n`;
}

export function registerViewsCommands(program: Command, io: CliIO): Command {
  const views = program.command('views').description('the curated views (sql/views/*.sql, Trino SQL)');
  addConfigOption(views.command('list'))
    .description('list the views in dependency order')
    .option('--views <dir>', 'directory of the views *.sql')
    .action(async (flags: ViewsFlags) => {
      const settings = await settingsFor(io, flags);
      for (const view of await loadViews(settings.viewsDir)) {
        io.stdout.write(`${view.name}${view.dependsOn.length ? `  (after ${view.dependsOn.join(', ')})` : ''}\n`);
      }
    });
  addAthenaOptions(addLocalOptions(addConfigOption(views.command('apply'))))
    .description('create or replace every view, dependencies first, on Athena (--athena) or the local engine')
    .option('--json', 'print the results as JSON')
    .action(async (flags: ViewsFlags) => {
      const settings = await settingsFor(io, flags);
      const definitions = await loadViews(settings.viewsDir);
      let results: ViewResult[];
      let error: ClicklakeError | undefined;
      if (flags.athena) {
        const athena = new AthenaClient({});
        try {
          ({ results, error } = await applyViewsOnAthena(athena, definitions, {
            workgroup: settings.athena.workgroup,
            database: settings.database,
            ...(settings.athena.outputLocation ? { outputLocation: settings.athena.outputLocation } : {}),
          }));
        } finally {
          athena.destroy();
        }
      } else {
        const engine = await openLocalEngine({ lakeDir: localLakeOf(settings, io.cwd), tables: await localTables(settings) });
        try {
          const created = await applyViewsLocally(engine, definitions);
          results = definitions.map((v) => ({ name: v.name, file: v.file, status: created.some((c) => c.name === v.name) ? 'applied' : 'notExecuted' }));
        } finally {
          await engine.close();
        }
      }
      io.stdout.write(flags.json ? `${JSON.stringify({ results, ...(error ? { error: error.toJSON() } : {}) }, null, 2)}\n` : renderViewResults(results));
      if (error) throw error;
    });
  return views;
}

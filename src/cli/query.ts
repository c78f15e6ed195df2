import { AthenaClient } from '@aws-sdk/client-athena';
import { InvalidArgumentError, type Command } from 'commander';
import { runAthenaQuery } from '../query/athena.js';
import { applyViewsLocally, openLocalEngine } from '../query/local-engine.js';
import { loadViews } from '../query/views.js';
import { addAthenaOptions, addConfigOption, settingsFor, type ConfigFlags } from './config-flags.js';
import type { CliIO } from './io.js';
import { OUTPUT_FORMATS, renderResult, type OutputFormat } from './render-table.js';
import { addLocalOptions, localLakeOf, localTables } from './views.js';

interface QueryFlags extends ConfigFlags {
  athena?: boolean;
  format: OutputFormat;
}

function parseFormat(value: string): OutputFormat {
  if (!(OUTPUT_FORMATS as readonly string[]).includes(value)) throw new InvalidArgumentError(`--format must be one of ${OUTPUT_FORMATS.join(', ')}`);
  return value as OutputFormat;
}

/** `1.2 MB`: bytes in binary units, as Athena's console shows them. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB', 'PB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(2)} ${units[unit]}`;
}

export function registerQueryCommands(program: Command, io: CliIO): Command {
  return addAthenaOptions(addLocalOptions(addConfigOption(program.command('query'))))
    .description('run one SQL statement on Athena (--athena) or on the local engine (curated tables and views of a file:// lake)')
    .argument('<sql>', 'the statement (Trino SQL)')
    .option('--format <format>', `output: ${OUTPUT_FORMATS.join(', ')}`, parseFormat, 'table')
    .action(async (sql: string, flags: QueryFlags) => {
      const settings = await settingsFor(io, flags);
      if (flags.athena) {
        const athena = new AthenaClient({});
        try {
          const result = await runAthenaQuery(athena, sql, {
            workgroup: settings.athena.workgroup,
            database: settings.database,
            ...(settings.athena.outputLocation ? { outputLocation: settings.athena.outputLocation } : {}),
          });
          const stats = `${result.cost.scannedBytes} bytes scanned (${formatBytes(result.cost.scannedBytes)}), billed ${formatBytes(result.cost.billedBytes)}, cost $${result.cost.usd.toFixed(6)} (query ${result.queryExecutionId})`;
          io.stdout.write(renderResult(result, flags.format, { queryExecutionId: result.queryExecutionId, cost: result.cost }));
          // Keep CSV / JSON on stdout clean for tools: the statistics go to stderr there.
          if (flags.format === 'table') io.stdout.write(`${stats}\n`);
          else if (flags.format === 'csv') io.stderr.write(`${stats}\n`);
        } finally {
          athena.destroy();
        }
        return;
      }
      const engine = await openLocalEngine({ lakeDir: localLakeOf(settings), tables: await localTables(settings) });
      try {
        await applyViewsLocally(engine, await loadViews(settings.viewsDir));
        io.stdout.write(renderResult(await engine.query(sql), flags.format));
      } finally {
        await engine.close();
      }
    });
}

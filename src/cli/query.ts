import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { AthenaClient } from '@aws-sdk/client-athena';
import { InvalidArgumentError, type Command } from 'commander';
import { runAthenaQuery } from '../query/athena.js';
import { applyViewsLocally, openLocalEngine } from '../query/local-engine.js';
import { loadViews } from '../query/views.js';
import { estimateScanCost, formatBytes, formatUsd } from '../query/scan-cost.js';
import { ClicklakeError } from '../errors.js';
import { addAthenaOptions, addConfigOption, settingsFor, type ConfigFlags } from './config-flags.js';
import type { CliIO } from './io.js';
import { OUTPUT_FORMATS, renderResult, type OutputFormat } from './render-table.js';
import { addLocalOptions, localLakeOf, localTables } from './views.js';

interface QueryFlags extends ConfigFlags {
  athena?: boolean;
  format: OutputFormat;
  explainCost?: boolean;
}

function parseFormat(value: string): OutputFormat {
  if (!(OUTPUT_FORMATS as readonly string[]).includes(value)) throw new InvalidArgumentError(`--format must be one of ${OUTPUT_FORMATS.join(', ')}`);
  return value as OutputFormat;
}

export function registerQueryCommands(program: Command, io: CliIO): Command {
  return addAthenaOptions(addLocalOptions(addConfigOption(program.command('query'))))
    .description('run one SQL statement on Athena (--athena) or on the local engine (curated tables and views of a file:// lake)')
    .argument('<sql>', 'the statement (Trino SQL)')
    .option('--format <format>', `output: ${OUTPUT_FORMATS.join(', ')}`, parseFormat, 'table')
    .option('--explain-cost', 'print the bytes Athena would scan and its price, from the local Parquet footers, without running the query')
    .addHelpText('after', `\nExamples:\n  clicklake query --lake file://./lake "SELECT * FROM item_conversion WHERE dt = '2024-05-06' LIMIT 10"\n  clicklake query --lake file://./lake --explain-cost "SELECT * FROM session_summary"\n  clicklake query --athena --format csv "SELECT * FROM item_views_daily WHERE dt >= '2024-05-01'"\n`)
    .action(async (sql: string, flags: QueryFlags) => {
      const settings = await settingsFor(io, flags);
      if (flags.athena && flags.explainCost) {
        throw new ClicklakeError('bad_flag', '--explain-cost estimates from a local lake\'s Parquet footers; on Athena, run the query: its bytes scanned and cost are printed after the rows', {});
      }
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
      const lake = localLakeOf(settings, io.cwd);
      if (!existsSync(fileURLToPath(lake))) {
        io.stderr.write(`note: ${lake} does not exist, so every table is empty: run \`clicklake demo\` or \`clicklake compact\` first, or pass --lake\n`);
      }
      const engine = await openLocalEngine({ lakeDir: lake, tables: await localTables(settings) });
      try {
        await applyViewsLocally(engine, await loadViews(settings.viewsDir));
        const estimate = flags.format === 'table' || flags.explainCost ? await estimateScanCost(engine, sql) : undefined;
        const costLine = estimate
          ? `Athena would scan ${formatBytes(estimate.bytesScanned)} (${estimate.columns.length} column(s), ${estimate.files} of ${estimate.filesTotal} file(s), ${estimate.rowGroups} of ${estimate.rowGroupsTotal} row group(s)${estimate.approximate ? ', approximate' : ''}) and bill ${formatBytes(estimate.billedBytes)}: ${formatUsd(estimate.costUsd)}`
          : '';
        if (flags.explainCost) {
          io.stdout.write(flags.format === 'json' ? `${JSON.stringify(estimate, null, 2)}\n` : `${costLine}\n${estimate!.notes.map((n) => `  note: ${n}\n`).join('')}`);
          return;
        }
        io.stdout.write(renderResult(await engine.query(sql), flags.format));
        if (estimate) io.stdout.write(`${costLine}\n`);
      } finally {
        await engine.close();
      }
    });
}

import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { compactionContext, manifestSettings } from '../compaction/context.js';
import { runUnits } from '../compaction/schedule/run.js';
import { planUnits } from '../compaction/schedule/scheduler.js';
import { absoluteLakeUri } from '../config/load.js';
import { resolveSettings } from '../config/settings.js';
import { writeSyntheticLake } from '../demo/generate.js';
import { ClicklakeError } from '../errors.js';
import { utcDate } from '../partitions/hours.js';
import { applyViewsLocally, openLocalEngine } from '../query/local-engine.js';
import { estimateScanCost, formatBytes, formatUsd, athenaCost, rawScanBytes } from '../query/scan-cost.js';
import { loadViews } from '../query/views.js';
import { loadTable } from '../schema/load.js';
import { openStore } from '../storage/open.js';
import { summaryTable } from './compact.js';
import { DEFAULT_LAKE } from './config-flags.js';
import type { CliIO } from './io.js';
import { renderTable } from './render-table.js';
import { localTables } from './views.js';

interface DemoFlags {
  lake: string;
  seed: string;
  events: string;
  days: string;
  start: string;
  rows: string;
}

/** Marks a directory the demo created, so a rerun may wipe it and nothing else is ever wiped. */
const DEMO_MARKER = '.clicklake-demo';

function intFlag(name: string, text: string, min: number): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < min) throw new ClicklakeError('bad_flag', `--${name} ${text} must be a whole number >= ${min}`, { flag: name });
  return n;
}

async function prepareLakeDir(dir: string): Promise<void> {
  if (existsSync(dir)) {
    const entries = await readdir(dir);
    if (entries.length > 0 && !entries.includes(DEMO_MARKER)) {
      throw new ClicklakeError('lake_not_empty', `${dir} holds data the demo did not write: pass --lake file://<empty or new directory>`, { dir });
    }
    await rm(dir, { recursive: true, force: true });
  }
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, DEMO_MARKER), 'written by `clicklake demo`; the next demo run replaces this directory\n');
}

/** The demo's lake directory: a `file://` URI or a plain path, relative to the working directory. */
function demoLakeDir(lake: string, cwd: string): string {
  const uri = absoluteLakeUri(lake, cwd);
  if (!uri.startsWith('file://')) {
    throw new ClicklakeError('bad_flag', `--lake ${lake}: the demo runs on a local directory only; pass --lake ./lake (or file://./lake). To compact a lake on S3 use \`clicklake compact --lake s3://...\``, { lake });
  }
  return fileURLToPath(uri);
}

export function registerDemoCommand(program: Command, io: CliIO): void {
  program
    .command('demo')
    .description('the whole pipeline on the embedded default: synthetic Firehose data -> compaction -> views -> scan cost, in a local lake (no AWS)')
    .option('--lake <uri>', 'local lake directory, a path or file:// URI (replaced on each demo run)', DEFAULT_LAKE)
    .option('--seed <n>', 'random seed: the same seed gives the same data', '42')
    .option('--events <n>', 'number of click events to generate', '150000')
    .option('--days <n>', 'days of traffic', '2')
    .option('--start <date>', 'first day (UTC, YYYY-MM-DD)', '2024-05-06')
    .option('--rows <n>', 'rows of each view to show', '5')
    .action(async (flags: DemoFlags) => {
      const started = Date.now();
      const seed = intFlag('seed', flags.seed, 0);
      const events = intFlag('events', flags.events, 1);
      const days = intFlag('days', flags.days, 1);
      const shown = intFlag('rows', flags.rows, 0);
      const lakeDir = demoLakeDir(flags.lake, io.cwd);
      const lake = pathToFileURL(lakeDir).href;
      const say = (text: string): void => void io.stdout.write(`${text}\n`);
      const progress = (text: string): void => {
        if (io.stderr.isTTY) io.stderr.write(`\r\x1b[K${text}`);
      };
      const doneProgress = (): void => {
        if (io.stderr.isTTY) io.stderr.write('\r\x1b[K');
      };

      await prepareLakeDir(lakeDir);
      const settings = resolveSettings({}, { lake });
      const spec = await loadTable('click_events', settings.schemasDir);
      const store = openStore(lake);

      say(`1. Generating ${events.toLocaleString('en-US')} menu click events over ${days} day(s) as Firehose objects (seed ${seed}) in ${lakeDir}/raw`);
      const raw = await writeSyntheticLake({ store, table: spec.name, seed, events, startDate: flags.start, days, onObject: (n, b) => progress(`   ${n} objects, ${formatBytes(b)}`) });
      doneProgress();
      say(`   ${raw.objects} objects (${formatBytes(raw.bytes)}) in ${raw.hours.length} arrival hours: NDJSON, concatenated JSON, GZIP, batched arrays, ~2% broken records, ~1% duplicates`);

      say('\n2. Compacting every closed arrival hour into Parquet');
      const ctx = compactionContext({ store, spec, settings });
      const plan = await planUnits(store, settings.layout, spec.name, { now: raw.lastArrivalMs + 86_400_000, graceMs: settings.compaction.graceMinutes * 60_000, lookbackMs: 0, all: true, settings: manifestSettings(ctx) });
      let current = '';
      ctx.onProgress = (e) => progress(`   ${current} ${e.phase}${e.total ? ` ${e.done}/${e.total} objects` : ''}`);
      const summary = await runUnits(ctx, plan.todo, { onUnitStart: (u, i, total) => (current = `[${i + 1}/${total}] ${new Date(u.hour).toISOString().slice(0, 13)}`) });
      doneProgress();
      const t = summary.totals;
      say(summaryTable({ ...summary, units: summary.units.length > 6 ? [...summary.units.slice(0, 3), ...summary.units.slice(-2)] : summary.units }).trimEnd());
      if (summary.units.length > 6) say(`   (${summary.units.length - 5} more units not shown; totals cover all ${summary.units.length})`);
      const reasons: Record<string, number> = {};
      for (const u of summary.units) for (const [k, v] of Object.entries(u.rejectReasons)) reasons[k] = (reasons[k] ?? 0) + v;
      say(`   records in ${t.recordsIn} = written ${t.written} + duplicates ${t.duplicates} + rejected ${t.rejected}`);
      say(`   rejected by reason: ${Object.entries(reasons).map(([k, v]) => `${k} ${v}`).join(', ')} (each with its bytes and reasons in ${lakeDir}/errors)`);

      say('\n3. Curated views on the local engine (DuckDB with Trino-compatible macros)');
      const views = await loadViews(settings.viewsDir);
      const engine = await openLocalEngine({ lakeDir: lake, tables: await localTables(settings) });
      try {
        await applyViewsLocally(engine, views);
        for (const view of views) {
          const sample = await engine.query(`SELECT * FROM ${view.name} ORDER BY 1, 2, 3 LIMIT ${shown}`);
          say(`\n-- ${view.name}`);
          io.stdout.write(renderTable(sample));
        }

        say('\n4. What Athena would scan and bill for each view: curated Parquet vs the same question over the raw JSON');
        const dates = { from: flags.start, to: utcDate(Date.parse(`${flags.start}T00:00:00Z`) + (days - 1) * 86_400_000) };
        // Late events (up to 30 h) land in later arrival hours: the raw question must read those too.
        const rawBytes = await rawScanBytes(lakeDir, spec.name, dates, 30);
        const rows: unknown[][] = [];
        for (const view of views) {
          const curated = await estimateScanCost(engine, `SELECT * FROM ${view.name}`);
          const rawScanned = rawBytes * Math.max(1, curated.tableScans);
          rows.push([
            view.name,
            formatBytes(rawScanned),
            formatUsd(athenaCost(rawScanned).costUsd),
            formatBytes(curated.bytesScanned),
            formatUsd(curated.costUsd),
            curated.bytesScanned > 0 ? `${(rawScanned / curated.bytesScanned).toFixed(1)}x` : 'n/a',
          ]);
        }
        io.stdout.write(renderTable({ columns: ['view', 'raw JSON scanned', 'raw cost', 'curated scanned', 'curated cost', 'less scanned'].map((name) => ({ name })), rows }));
        say('   (Athena bills $5/TB with a 10 MB minimum per query; at this demo size every query pays the minimum, the ratio is what scales.)');
      } finally {
        await engine.close();
      }
      say(`\nDone in ${((Date.now() - started) / 1000).toFixed(1)} s. Try: npx clicklake query --lake ${flags.lake} "SELECT * FROM item_conversion ORDER BY conversion_rate DESC LIMIT 10"`);
    });
}

import type { Command } from 'commander';
import { loadConfig, absoluteLakeUri } from '../config/load.js';
import { deployCostInputs } from '../cost/deploy-inputs.js';
import { DEFAULT_WORKLOAD, monthlyBill, type Workload } from '../cost/model.js';
import { loadPrices } from '../cost/prices.js';
import { renderBill } from '../cost/render.js';
import { BENCH_RESULTS_FILE, SEED_SPEED, speedFromLake, speedFromResults, type CompactionSpeed } from '../cost/speed.js';
import { ClicklakeError } from '../errors.js';
import { resolveSettings } from '../config/settings.js';
import { openStore } from '../storage/open.js';
import type { CliIO } from './io.js';
import { positiveNumberFlag, wholeNumberFlag } from './number-flags.js';
import path from 'node:path';

interface CostFlags {
  config?: string;
  eventsPerMinute: string;
  eventBytes: string;
  batchEvents: string;
  ingestion: string;
  months: string;
  queriesPerDay: string;
  bytesPerQuery?: string;
  region?: string;
  prices?: string;
  results?: string;
  lake?: string;
  backfillHours?: string;
  backfillConcurrency?: string;
  backfillHoursPerBranch?: string;
  json?: boolean;
}

const d = DEFAULT_WORKLOAD;

export function registerCostCommand(program: Command, io: CliIO): Command {
  return program
    .command('cost')
    .description('the monthly bill of the deployed system for a workload, line by line, beside other ways to do the compaction step')
    .option('--config <file>', 'config file whose "deploy" section sets retention, Lambda memory and schedule (default: ./clicklake.config.json when present)')
    .option('--events-per-minute <n>', 'events the menu pages send a minute', String(d.eventsPerMinute))
    .option('--event-bytes <n>', 'bytes of JSON per event', String(d.eventBytes))
    .option('--batch-events <n>', 'events per request and per Firehose record (the tracker batches up to 25)', String(d.batchEvents))
    .option('--ingestion <path>', 'api-gateway (the HTTPS endpoint) or cognito (browsers call Firehose directly)', d.ingestion)
    .option('--months <n>', 'which month of the lake to price: storage grows month by month until the lifecycle rules cap it', String(d.months))
    .option('--queries-per-day <n>', 'Athena queries a day over the curated views', String(d.queriesPerDay))
    .option('--bytes-per-query <n>', "bytes one view query scans (take it from `clicklake query --explain-cost`; default: a day of curated Parquet)")
    .option('--region <region>', 'prices of this Region, from prices/<region>.json (default: deploy.region, else us-east-1)')
    .option('--prices <file>', 'your own prices file (same format as prices/us-east-1.json)')
    .option('--results <file>', 'benchmark results with the compaction speed (default: bench/results.json, written by npm run bench:compact)')
    .option('--lake <uri>', "take the compaction speed from this lake's manifests instead of the benchmark")
    .option('--backfill-hours <n>', 'also price recompacting this many hours (8760: a year) with the fan-out and on Glue Spark')
    .option('--backfill-concurrency <n>', 'Lambdas the fan-out runs at once (default: deploy.backfill.maxConcurrency, else 50)')
    .option('--backfill-hours-per-branch <n>', 'hours each fan-out branch compacts, like compact --hours-per-branch (default 24)')
    .option('--json', 'print the bill as JSON: { lines, totalMonthlyUsd, alternatives, ... }')
    .addHelpText(
      'after',
      `\nEvery price comes from one file per Region with its source and date (prices/us-east-1.json ships).\nThe compaction speed comes from the benchmark (bench/results.json) or a lake's manifests (--lake).\n\nExamples:\n  clicklake cost\n  clicklake cost --events-per-minute 20000 --batch-events 1 --json\n  clicklake cost --backfill-hours 8760\n`,
    )
    .action(async (flags: CostFlags) => {
      const ingestion = flags.ingestion;
      if (ingestion !== 'api-gateway' && ingestion !== 'cognito') {
        throw new ClicklakeError('bad_flag', `--ingestion ${ingestion} is not a way in: use --ingestion api-gateway or --ingestion cognito`, { flag: '--ingestion', value: ingestion });
      }
      const loaded = await loadConfig({ cwd: io.cwd, file: flags.config, env: io.env });
      const deploy = deployCostInputs(loaded.config);
      const region = flags.region ?? deploy.region ?? 'us-east-1';
      const prices = await loadPrices(flags.prices !== undefined ? { file: path.resolve(io.cwd, flags.prices) } : { region });
      const layout = resolveSettings(loaded.config, {}).layout;
      const speed = await compactionSpeed(flags, io, deploy.lambdaMemoryMb, layout.manifestsPrefix);
      const { region: _region, ...deployFields } = deploy;
      const workload: Workload = {
        ...d,
        ...deployFields,
        eventsPerMinute: positiveNumberFlag('--events-per-minute', flags.eventsPerMinute, { example: '5000' }),
        eventBytes: positiveNumberFlag('--event-bytes', flags.eventBytes, { example: '700' }),
        batchEvents: wholeNumberFlag('--batch-events', flags.batchEvents),
        ingestion,
        months: wholeNumberFlag('--months', flags.months),
        queriesPerDay: positiveNumberFlag('--queries-per-day', flags.queriesPerDay, { allowZero: true }),
        compactionSecondsPerMillion: speed.secondsPerMillion,
        lambdaMemoryMb: deploy.lambdaMemoryMb ?? speed.lambdaMemoryMb,
      };
      if (flags.bytesPerQuery !== undefined) workload.bytesPerQuery = positiveNumberFlag('--bytes-per-query', flags.bytesPerQuery, { example: '52428800' });
      if (flags.backfillHours !== undefined) workload.backfillHours = wholeNumberFlag('--backfill-hours', flags.backfillHours);
      if (flags.backfillConcurrency !== undefined) workload.backfillConcurrency = wholeNumberFlag('--backfill-concurrency', flags.backfillConcurrency);
      if (flags.backfillHoursPerBranch !== undefined) workload.backfillHoursPerBranch = wholeNumberFlag('--backfill-hours-per-branch', flags.backfillHoursPerBranch);
      const bill = monthlyBill(workload, prices.amounts);
      if (flags.json) {
        io.stdout.write(`${JSON.stringify({ ...bill, workload, region, pricesFile: prices.file, pricesAsOf: prices.asOf, compactionSpeed: speed }, null, 2)}\n`);
        return;
      }
      io.stdout.write(
        renderBill(bill, [
          `Month ${workload.months} of ${workload.eventsPerMinute.toLocaleString('en-US')} events a minute of ${workload.eventBytes} B, ${workload.batchEvents} per request, through ${ingestion}; ${region} prices of ${prices.asOf} (${prices.file}).`,
          `Compaction speed: ${speed.secondsPerMillion.toFixed(1)} s per million events at ${workload.lambdaMemoryMb} MB (${speed.source}).`,
        ]),
      );
    });
}

async function compactionSpeed(flags: CostFlags, io: CliIO, lambdaMemoryMb: number | undefined, manifestsPrefix: string): Promise<CompactionSpeed> {
  if (flags.lake !== undefined) {
    const store = openStore(absoluteLakeUri(flags.lake, io.cwd));
    return speedFromLake(store, `${manifestsPrefix.replace(/\/+$/, '')}/`, lambdaMemoryMb ?? SEED_SPEED.lambdaMemoryMb);
  }
  if (flags.results !== undefined) {
    const file = path.resolve(io.cwd, flags.results);
    const speed = await speedFromResults(file);
    if (!speed) throw new ClicklakeError('results_not_found', `cannot read ${file}: run npm run bench:compact to write it, or leave out --results`, { file });
    return speed;
  }
  return (await speedFromResults(BENCH_RESULTS_FILE)) ?? SEED_SPEED;
}

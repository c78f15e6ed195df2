import { mkdtemp, mkdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './support/cli.js';

/**
 * `clicklake cost` against a bill worked out by hand for the seeds' workload: 5,000 events a
 * minute of 700 B, sent 25 to a request, through API Gateway, in the 12th month of the lake.
 * A month is 30 days = 43,200 minutes; GB = 2^30 bytes; Firehose bills each record rounded up
 * to the next 5 KB = 5,120 B. Prices: prices/us-east-1.json.
 */
const GB = 2 ** 30;
const EVENTS = 5000 * 43_200; // 216,000,000 events a month
const JSON_BYTES = EVENTS * 700; // 151,200,000,000 B of JSON a month

let dir: string;
let resultsFile: string;

interface Bill {
  lines: Array<{ service: string; item: string; monthlyUsd: number }>;
  totalMonthlyUsd: number;
  compactionStepUsd: number;
  ingestionAndCompactionUsd: number;
  alternatives: Array<{ name: string; monthlyUsd: number; clicklakeMonthlyUsd: number; timesClicklake: number | null }>;
  backfill?: { hours: number; wallSeconds: number; serialWallSeconds: number; lambdaUsd: number; stepFunctionsUsd: number; glueSparkUsd: number };
  compactionSpeed: { secondsPerMillion: number; source: string };
}

async function bill(...flags: string[]): Promise<Bill> {
  const { code, stdout, stderr } = await runCli(['cost', '--json', '--results', resultsFile, ...flags], dir);
  expect(stderr).toBe('');
  expect(code).toBe(0);
  return JSON.parse(stdout) as Bill;
}

function line(b: Bill, service: string, item: RegExp): number {
  const found = b.lines.filter((l) => l.service === service && item.test(l.item));
  expect(found, `one ${service} line matching ${item}`).toHaveLength(1);
  return found[0]!.monthlyUsd;
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'clicklake-cost-'));
  // The benchmark's file format: 20 s for a million events in the deployed configuration.
  resultsFile = path.join(dir, 'results.json');
  await writeFile(
    resultsFile,
    JSON.stringify({
      generatedAt: '2026-12-03T12:00:00.000Z',
      runs: 3,
      results: [
        { profile: 'dirty', config: 'cli-default', contender: 'clicklake', lambdaMemoryMb: 3538, events: 1_000_000, wallSeconds: 30 },
        { profile: 'edge-validated', config: 'deployed', contender: 'floor', lambdaMemoryMb: 3538, events: 1_000_000, wallSeconds: 5 },
        { profile: 'edge-validated', config: 'deployed', contender: 'clicklake', lambdaMemoryMb: 3538, events: 1_000_000, wallSeconds: 20 },
      ],
    }),
  );
});

describe('clicklake cost, the seeds workload by hand', () => {
  it('prices each line as computed here', async () => {
    const b = await bill();
    // The benchmark entry it must pick: clicklake, edge-validated, deployed (not the dirty one, not the floor).
    expect(b.compactionSpeed.secondsPerMillion).toBeCloseTo(20, 9);

    // API Gateway: 216,000,000 / 25 = 8,640,000 requests x $3.50 per million = $30.24.
    expect(line(b, 'API Gateway', /REST requests/)).toBeCloseTo(8.64 * 3.5, 9);
    // Firehose: a record of 25 x 700 = 17,500 B is billed as ceil(17,500 / 5,120) = 4 x 5,120 = 20,480 B;
    // 8,640,000 x 20,480 B = 164.79 GB x $0.029 = $4.78.
    const firehose = ((8_640_000 * 20_480) / GB) * 0.029;
    expect(line(b, 'Firehose', /20,480 B/)).toBeCloseTo(firehose, 9);
    expect(firehose).toBeCloseTo(4.779, 3);

    // Storage in month 12: raw keeps 90 days = 3 months of GZIP (0.2 of the JSON) in Standard.
    expect(line(b, 'S3', /^raw zone/)).toBeCloseTo(((JSON_BYTES * 0.2 * 3) / GB) * 0.023, 9);
    // Curated (Parquet, 35.0 / 678.3 of the JSON): the newest month frequent, 11 older ones infrequent.
    const curatedMonth = JSON_BYTES * (35.0 / 678.3);
    expect(line(b, 'S3', /frequent$/)).toBeCloseTo((curatedMonth / GB) * 0.023, 9);
    expect(line(b, 'S3', /infrequent/)).toBeCloseTo(((curatedMonth * 11) / GB) * 0.0125, 9);

    // Compaction: 216 million events x 20 s per million = 4,320 s at 3,538 MB = 3.455 GB,
    // x $0.0000133334 per GB-second = $0.199; plus 4 invocations an hour x 720 hours x $0.20 per million.
    const lambda = 4320 * (3538 / 1024) * 0.0000133334;
    expect(line(b, 'Lambda', /^compaction/)).toBeCloseTo(lambda, 9);
    const invocations = ((4 * 720) / 1e6) * 0.2;
    expect(b.compactionStepUsd).toBeCloseTo(lambda + invocations, 9);
    expect(b.ingestionAndCompactionUsd).toBeCloseTo(firehose + lambda + invocations, 9);

    // Athena: 100 queries a day x 30 days, each scanning a day of curated Parquet, at $5 per TB (2^40 B).
    expect(line(b, 'Athena', /3,000 view queries/)).toBeCloseTo(((3000 * (curatedMonth / 30)) / 2 ** 40) * 5, 9);

    const sum = b.lines.reduce((s, l) => s + l.monthlyUsd, 0);
    expect(b.totalMonthlyUsd).toBeCloseTo(sum, 9);
  });

  it('sets the alternatives against the part of clicklake they replace', async () => {
    const b = await bill();
    const alt = (name: RegExp) => b.alternatives.find((a) => name.test(a.name))!;
    // Glue Spark, hourly, billed at least a minute: 720 runs x 2 DPU x 1/60 h x $0.44 = $10.56.
    const glue2 = alt(/2 DPU, 1-minute/);
    expect(glue2.monthlyUsd).toBeCloseTo(720 * 2 * (1 / 60) * 0.44, 9);
    expect(glue2.clicklakeMonthlyUsd).toBeCloseTo(b.compactionStepUsd, 9);
    expect(alt(/10 DPU/).monthlyUsd).toBeCloseTo(720 * 10 * (1 / 60) * 0.44, 9);
    // Firehose conversion reads one JSON object per record: 216,000,000 records each billed
    // 5,120 B (1,029.97 GB) at $0.029 ingestion + $0.018 conversion.
    const oneEventGb = (EVENTS * 5120) / GB;
    const conversion = alt(/^Firehose record-format conversion/);
    expect(conversion.monthlyUsd).toBeCloseTo(oneEventGb * (0.029 + 0.018), 9);
    expect(conversion.clicklakeMonthlyUsd).toBeCloseTo(b.ingestionAndCompactionUsd, 9);
    // The issue's bar for the seeds' workload: >= 10x cheaper than Glue Spark, >= 5x than Firehose conversion.
    expect(glue2.timesClicklake!).toBeGreaterThanOrEqual(10);
    expect(conversion.timesClicklake!).toBeGreaterThanOrEqual(5);
    expect(alt(/crawler/).timesClicklake).toBeNull();
  });

  it('shows the batching effect: one event per request costs 25x the requests and 5x the Firehose bytes', async () => {
    const b = await bill('--batch-events', '1');
    // 216,000,000 requests x $3.50 per million = $756; each 700 B record billed as 5,120 B.
    expect(line(b, 'API Gateway', /REST requests/)).toBeCloseTo(216 * 3.5, 9);
    expect(line(b, 'Firehose', /5,120 B/)).toBeCloseTo(((EVENTS * 5120) / GB) * 0.029, 9);
    const cognito = await bill('--ingestion', 'cognito');
    expect(cognito.lines.some((l) => l.service === 'API Gateway')).toBe(false);
    expect(line(cognito, 'Cognito', /identity pools are free/)).toBe(0);
  });

  it('shows the lifecycle effect: raw storage stops growing at 90 days, curated keeps growing', async () => {
    const raw = async (months: number) => line(await bill('--months', String(months)), 'S3', /^raw zone/);
    const curated = async (months: number) => line(await bill('--months', String(months)), 'S3', /infrequent/);
    const month1 = ((JSON_BYTES * 0.2) / GB) * 0.023;
    expect(await raw(1)).toBeCloseTo(month1, 9);
    expect(await raw(2)).toBeCloseTo(2 * month1, 9);
    expect(await raw(3)).toBeCloseTo(3 * month1, 9);
    expect(await raw(24)).toBeCloseTo(3 * month1, 9);
    expect(await curated(1)).toBe(0);
    expect(await curated(24)).toBeCloseTo(2 * (await curated(12)) + ((JSON_BYTES * (35.0 / 678.3)) / GB) * 0.0125, 9);
  });

  it("takes the retention and Lambda size from the config's deploy section", async () => {
    const configDir = await mkdtemp(path.join(dir, 'deploy-'));
    // Read loosely: only the fields the model uses.
    const configFile = path.join(configDir, 'cost-inputs.json');
    await writeFile(configFile, JSON.stringify({ deploy: { retention: { rawDays: 30 }, lambda: { memoryMb: 1769 } } }));
    const { deployCostInputs } = await import('../src/cost/deploy-inputs.js');
    expect(deployCostInputs(JSON.parse(await readFile(configFile, 'utf8')))).toEqual({ rawDays: 30, lambdaMemoryMb: 1769 });
  });

  it('prices a year of backfill with the fan-out and on Glue Spark', async () => {
    const b = await bill('--backfill-hours', '8760', '--backfill-concurrency', '50');
    // An hour of 300,000 events at 20 s per million = 6 s. Branches of 24 hours: 365 of them, 50 at
    // once = 8 waves (7.3 rounded up) of 24 x 6 s each.
    expect(b.backfill!.wallSeconds).toBeCloseTo(8 * 24 * 6, 9);
    expect(b.backfill!.serialWallSeconds).toBeCloseTo(8760 * 6, 9);
    // GB-seconds of every hour, and one request per branch.
    expect(b.backfill!.lambdaUsd).toBeCloseTo(8760 * 6 * (3538 / 1024) * 0.0000133334 + (365 / 1e6) * 0.2, 9);
    // Four state transitions per branch.
    expect(b.backfill!.stepFunctionsUsd).toBeCloseTo(((365 * 4) / 1000) * 0.025, 9);
    const hourly = await bill('--backfill-hours', '8760', '--backfill-concurrency', '50', '--backfill-hours-per-branch', '1');
    expect(hourly.backfill!.wallSeconds).toBeCloseTo(176 * 6, 9);
    // Glue: one 2 DPU job per hour, 6 s billed as the 1-minute minimum.
    expect(b.backfill!.glueSparkUsd).toBeCloseTo(8760 * 2 * (60 / 3600) * 0.44, 9);
  });

  it('takes the speed from a lake\'s manifests with --lake', async () => {
    const lake = await mkdtemp(path.join(dir, 'lake-'));
    const manifests = path.join(lake, '_manifests', 'click_events', '2024', '05', '06');
    await mkdir(manifests, { recursive: true });
    const manifest = (durationMs: number, recordsIn: number) => JSON.stringify({ version: 1, durationMs, counts: { recordsIn, written: recordsIn, duplicates: 0, rejected: 0 } });
    await writeFile(path.join(manifests, '00.json'), manifest(3000, 100_000));
    await writeFile(path.join(manifests, '01.json'), manifest(5000, 300_000));
    const { code, stdout } = await runCli(['cost', '--json', '--lake', `file://${lake}`], dir);
    expect(code).toBe(0);
    // 8 s over 400,000 records = 20 s per million.
    expect((JSON.parse(stdout) as Bill).compactionSpeed.secondsPerMillion).toBeCloseTo(20, 9);
  });
});

describe('clicklake cost refuses what it cannot price', () => {
  it('refuses a prices file with a missing price, naming it', async () => {
    const shipped = JSON.parse(await readFile(new URL('../prices/us-east-1.json', import.meta.url), 'utf8')) as { prices: Record<string, unknown> };
    delete shipped.prices.athenaPerTBScanned;
    const file = path.join(dir, 'prices-missing.json');
    await writeFile(file, JSON.stringify(shipped));
    const { code, stderr } = await runCli(['cost', '--prices', file, '--results', resultsFile], dir);
    expect(code).toBe(1);
    expect(stderr).toMatch(/has no price "athenaPerTBScanned": add it/);
    expect(stderr.trim().split('\n')).toHaveLength(1);
  });

  it.each([
    [['--events-per-minute', 'lots'], /--events-per-minute lots must be a number above 0/],
    [['--batch-events', '0'], /--batch-events 0 must be a whole number of at least 1/],
    [['--ingestion', 'kinesis'], /use --ingestion api-gateway or --ingestion cognito/],
    [['--region', 'eu-west-9'], /ships prices for us-east-1 only/],
    [['--results', 'nope.json'], /cannot read .*nope\.json: run npm run bench:compact/],
    [['--lake', 'file:///nonexistent-lake-dir'], /has no compacted units/],
  ])('%s', async (flags, message) => {
    const { code, stderr } = await runCli(['cost', ...flags], dir);
    expect(stderr).toMatch(message);
    expect(code).toBe(1);
  });
});

/**
 * The compaction Lambda's core (`runCompactionJob`) against a real S3-compatible server: scheduled
 * runs compact the closed hours of the lookback window, backfill events redo chosen hours, and a
 * short time budget defers units to the next run, which continues.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { runCompactionJob, MIN_REMAINING_MS, type LambdaContextLike } from '../src/compaction/lambda/handler.js';
import type { UnitManifest } from '../src/manifest/manifest.js';
import { formatHour } from '../src/partitions/hours.js';
import { DEFAULT_LAYOUT, manifestKey } from '../src/partitions/layout.js';
import { openStore } from '../src/storage/open.js';
import type { ObjectStore } from '../src/storage/types.js';
import { clickEvent, FirehoseCorpus, uuidFor } from './support/firehose-corpus.js';
import { buildCorpus, H1, H2 } from './support/compaction-scenarios.js';
import { startTestS3, type TestS3 } from './support/s3-server.js';

const TABLE = 'click_events';
/** Both corpus hours closed. */
const NOW = H2 + 90 * 60_000;
/** An hour with data, older than the default 48 h lookback. */
const OLD = H1 - 72 * 3_600_000;

let s3: TestS3;
let work: string;
let seq = 0;
let logs: string[] = [];

beforeAll(async () => {
  s3 = await startTestS3({ bucket: 'clicklake-lambda' });
  work = await mkdtemp(path.join(tmpdir(), 'clicklake-lambda-'));
});
afterAll(async () => {
  await s3?.close();
  if (work) await rm(work, { recursive: true, force: true });
});
beforeEach(() => {
  logs = [];
  vi.spyOn(console, 'log').mockImplementation((line: unknown) => void logs.push(String(line)));
  vi.spyOn(console, 'error').mockImplementation((line: unknown) => void logs.push(String(line)));
});
afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
});

/** A fresh lake prefix holding the corpus plus one object in an old hour. */
async function lakeWithCorpus(): Promise<{ uri: string; store: ObjectStore; corpus: FirehoseCorpus }> {
  const uri = `${s3.uri}/lambda-${++seq}`;
  const store = openStore(uri, { s3Client: s3.client });
  const corpus = buildCorpus();
  corpus.addObject(OLD, 'clicks-1-old', [{ valid: clickEvent(uuidFor(1, 'old'), new Date(OLD + 60_000).toISOString()) }], { framing: 'ndjson' });
  await corpus.upload(store);
  return { uri, store, corpus };
}

const envFor = (uri: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv => ({ CLICKLAKE_LAKE: uri, ...extra });
const plenty: LambdaContextLike = { getRemainingTimeInMillis: () => 15 * 60_000, awsRequestId: 'req-1' };

async function manifestOf(store: ObjectStore, hour: number): Promise<UnitManifest | undefined> {
  const key = manifestKey(DEFAULT_LAYOUT, TABLE, hour);
  if (!(await store.head(key))) return undefined;
  return JSON.parse((await store.getBytes(key)).toString()) as UnitManifest;
}

function expectCountsMatch(manifest: UnitManifest | undefined, corpus: FirehoseCorpus, hour: number): void {
  const truth = corpus.unit(hour);
  expect(manifest?.counts).toMatchObject({ recordsIn: truth.recordsIn, written: truth.written, duplicates: truth.duplicates, rejected: truth.rejected });
}

describe('runCompactionJob', () => {
  it('compacts the closed hours of the lookback window on a scheduled event, and nothing on the next one', async () => {
    const { uri, store, corpus } = await lakeWithCorpus();
    const event = { source: 'aws.events', 'detail-type': 'Scheduled Event', time: new Date(NOW).toISOString() };
    const result = await runCompactionJob(event, plenty, { env: envFor(uri), now: () => NOW, store, workDir: work });
    expect(result.units.map((u) => [u.hour, u.reason])).toEqual([
      [formatHour(H1), 'new'],
      [formatHour(H2), 'new'],
    ]);
    expect(result.deferred).toEqual([]);
    expectCountsMatch(await manifestOf(store, H1), corpus, H1);
    expectCountsMatch(await manifestOf(store, H2), corpus, H2);
    // The old hour is outside the 48 h lookback: left for a backfill.
    expect(await manifestOf(store, OLD)).toBeUndefined();
    expect(result.totals.written).toBe(corpus.unit(H1).written + corpus.unit(H2).written);
    // Structured logs, one JSON object a line.
    const done = logs.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l['msg'] === 'done');
    expect(done).toMatchObject({ level: 'info', table: TABLE, units: 2, deferred: 0 });

    const again = await runCompactionJob(event, plenty, { env: envFor(uri), now: () => NOW + 15 * 60_000, store, workDir: work });
    expect(again.units).toEqual([]);
    expect(again.upToDate).toBe(2);
  });

  it('reaches the lake through the standard AWS environment when no store is injected', async () => {
    const { uri, store, corpus } = await lakeWithCorpus();
    vi.stubEnv('AWS_ENDPOINT_URL_S3', s3.endpoint);
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'S3RVER');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'S3RVER');
    vi.stubEnv('AWS_REGION', 'us-east-1');
    const result = await runCompactionJob({}, plenty, { env: envFor(uri, { CLICKLAKE_LOOKBACK_HOURS: '200' }), now: () => NOW, workDir: work });
    expect(result.units.map((u) => u.hour)).toEqual([formatHour(OLD), formatHour(H1), formatHour(H2)]);
    expectCountsMatch(await manifestOf(store, H1), corpus, H1);
    expectCountsMatch(await manifestOf(store, OLD), corpus, OLD);
  });

  it('compacts exactly the hours of a backfill event, and redoes compacted ones with force', async () => {
    const { uri, store, corpus } = await lakeWithCorpus();
    const deps = { env: envFor(uri), now: () => NOW, store, workDir: work };
    const first = await runCompactionJob({ hours: [formatHour(OLD), formatHour(H2)] }, plenty, deps);
    expect(first.units.map((u) => [u.hour, u.reason])).toEqual([
      [formatHour(OLD), 'new'],
      [formatHour(H2), 'new'],
    ]);
    expectCountsMatch(await manifestOf(store, OLD), corpus, OLD);
    expect(await manifestOf(store, H1)).toBeUndefined();

    const unforced = await runCompactionJob({ hours: [formatHour(OLD)] }, plenty, deps);
    expect(unforced.units).toEqual([]);
    expect(unforced.upToDate).toBe(1);

    const before = await manifestOf(store, OLD);
    const forced = await runCompactionJob({ hours: [formatHour(OLD)], force: true }, plenty, { ...deps, now: () => NOW + 60_000 });
    expect(forced.units.map((u) => [u.hour, u.reason])).toEqual([[formatHour(OLD), 'forced']]);
    const after = await manifestOf(store, OLD);
    expect(after?.finishedAt).not.toBe(before?.finishedAt);
    expect(after?.outputs).toEqual(before?.outputs);
  });

  it('refuses a backfill of an hour that is still open', async () => {
    const { uri, store } = await lakeWithCorpus();
    await expect(runCompactionJob({ hours: [formatHour(H2)] }, plenty, { env: envFor(uri), now: () => H2 + 65 * 60_000, store, workDir: work })).rejects.toMatchObject({ code: 'hour_not_closed' });
  });

  it('defers the units it has no time for, and a later run continues', async () => {
    const { uri, store, corpus } = await lakeWithCorpus();
    const deps = { env: envFor(uri, { CLICKLAKE_LOOKBACK_HOURS: '200' }), now: () => NOW, store, workDir: work };

    const short: LambdaContextLike = { getRemainingTimeInMillis: () => MIN_REMAINING_MS - 1 };
    const none = await runCompactionJob({}, short, deps);
    expect(none.units).toEqual([]);
    expect(none.deferred).toEqual([formatHour(OLD), formatHour(H1), formatHour(H2)]);
    expect(await manifestOf(store, OLD)).toBeUndefined();
    const warn = logs.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l['level'] === 'warn');
    expect(warn?.['deferred']).toEqual(none.deferred);

    // Time for one unit only: the remaining time drops below the margin after the first.
    let calls = 0;
    const oneUnit: LambdaContextLike = { getRemainingTimeInMillis: () => (calls++ === 0 ? 10 * 60_000 : MIN_REMAINING_MS - 1) };
    const partial = await runCompactionJob({}, oneUnit, deps);
    expect(partial.units.map((u) => u.hour)).toEqual([formatHour(OLD)]);
    expect(partial.deferred).toEqual([formatHour(H1), formatHour(H2)]);

    const rest = await runCompactionJob({}, plenty, deps);
    expect(rest.units.map((u) => [u.hour, u.reason])).toEqual([
      [formatHour(H1), 'new'],
      [formatHour(H2), 'new'],
    ]);
    expect(rest.deferred).toEqual([]);
    expect(rest.upToDate).toBe(1);
    for (const hour of [OLD, H1, H2]) expectCountsMatch(await manifestOf(store, hour), corpus, hour);
  });

  it('refuses a CLICKLAKE_MEMORY_LIMIT that is not a size before compacting anything', async () => {
    const { uri, store } = await lakeWithCorpus();
    const run = runCompactionJob({}, plenty, { env: envFor(uri, { CLICKLAKE_MEMORY_LIMIT: 'half' }), now: () => NOW, store, workDir: work });
    await expect(run).rejects.toMatchObject({ code: 'bad_memory_limit', message: expect.stringContaining('CLICKLAKE_MEMORY_LIMIT "half" is not a size') });
    expect(await manifestOf(store, H1)).toBeUndefined();
  });

  it('says what to set when CLICKLAKE_LAKE is missing', async () => {
    await expect(runCompactionJob({}, plenty, { env: {}, now: () => NOW, workDir: work })).rejects.toMatchObject({ code: 'lake_required' });
  });
});

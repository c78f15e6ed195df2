/**
 * Raw objects as a third-party Firehose writes them: moto_server's Firehose (its own object names
 * under the prefix, its own YYYY/MM/DD/HH folders, records concatenated with no delimiter)
 * delivering into moto's S3 what the menu page sends (single events and tracker batches, with
 * invalid events, repeats and a garbage record), then `clicklake compact` over the SDK: the
 * curated table holds exactly the valid events once each, and every rejected record is in the
 * errors object with its exact bytes.
 */
import { CreateDeliveryStreamCommand, FirehoseClient, PutRecordBatchCommand } from '@aws-sdk/client-firehose';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createAjv } from '../src/schema/ajv.js';
import { loadTable } from '../src/schema/load.js';
import { openStore } from '../src/storage/open.js';
import type { ObjectStore } from '../src/storage/types.js';
import { clickstream } from '../src/synth/clickstream.js';
import { runCli } from './support/cli.js';
import { readWithHyparquet } from './support/parquet-read.js';
import { motoSkipReason, startMotoS3, type ThirdPartyS3 } from './support/third-party-s3.js';

const skip = motoSkipReason();
if (skip) console.warn(`skipping compaction of moto's Firehose objects: ${skip}`);

let moto: ThirdPartyS3;
beforeAll(async () => {
  if (!skip) moto = await startMotoS3({ bucket: 'clicklake-firehose' });
});
afterAll(async () => {
  await moto?.close();
});

async function keys(store: ObjectStore, prefix: string): Promise<string[]> {
  const out: string[] = [];
  for await (const o of store.list(prefix)) out.push(o.key);
  return out;
}

describe.skipIf(skip)("compaction of moto_server's Firehose deliveries", () => {
  it('writes exactly the valid events once each and keeps every rejected record with its bytes', async () => {
    const spec = await loadTable('click_events');
    const validate = createAjv().compile(spec.jsonSchema);
    const firehose = new FirehoseClient({ endpoint: moto.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'motokey', secretAccessKey: 'motosecret' } });
    await firehose.send(new CreateDeliveryStreamCommand({
      DeliveryStreamName: 'clicklake-click_events',
      DeliveryStreamType: 'DirectPut',
      ExtendedS3DestinationConfiguration: { BucketARN: `arn:aws:s3:::${moto.bucket}`, RoleARN: 'arn:aws:iam::123456789012:role/firehose', Prefix: 'lake/raw/click_events/' },
    }));

    const events = [...clickstream({ seed: 8, events: 600, startMs: Date.now() - 1_800_000, spanMs: 1_500_000, restaurants: 2 })] as unknown as Array<Record<string, unknown>>;
    const invalid = events.filter((_, i) => i % 37 === 5).map((ev) => ({ ...ev, event_type: 'not_a_type' }));
    const records: Buffer[] = [];
    for (let i = 0; i < events.length; ) {
      const size = i % 3 === 0 ? 1 : 10 + (i % 16);
      const batch = events.slice(i, i + size);
      records.push(Buffer.from(JSON.stringify(size === 1 ? batch[0] : batch)));
      i += size;
    }
    for (const ev of invalid) records.push(Buffer.from(JSON.stringify(ev)));
    records.push(Buffer.from(JSON.stringify(events.slice(0, 5)))); // a retry of the first tracker batch: repeats
    const garbage = Buffer.from('{"event_id": "cut off mid-reco');
    records.push(garbage);
    for (let i = 0; i < records.length; i += 100) {
      const answer = await firehose.send(new PutRecordBatchCommand({ DeliveryStreamName: 'clicklake-click_events', Records: records.slice(i, i + 100).map((Data) => ({ Data })) }));
      expect(answer.FailedPutCount).toBe(0);
    }
    firehose.destroy();

    const store = openStore(`${moto.uri}/lake`, { s3Client: moto.client });
    const raw = await keys(store, 'raw/click_events/');
    expect(raw.length).toBeGreaterThan(0);
    expect(raw.every((k) => /^raw\/click_events\/\d{4}\/\d{2}\/\d{2}\/\d{2}\/clicklake-click_events-\d+-\d{4}-\d{2}-\d{2}-\d{2}-\d{2}-\d{2}-[0-9a-f-]{36}$/.test(k)), raw.join('\n')).toBe(true);

    for (const [k, v] of Object.entries(moto.env)) vi.stubEnv(k, v);
    let run;
    try {
      run = await runCli(['compact', '--lake', `${moto.uri}/lake`, '--all', '--now', new Date(Date.now() + 2 * 3_600_000).toISOString(), '--json'], process.cwd());
    } finally {
      vi.unstubAllEnvs();
    }
    expect(run.code, run.stderr).toBe(0);

    const valid = events.filter((ev) => validate(ev));
    expect(valid).toHaveLength(events.length);
    const rows: Array<Record<string, unknown>> = [];
    for (const key of await keys(store, 'curated/click_events/')) rows.push(...(await readWithHyparquet(await store.getBytes(key))));
    expect(rows.map((r) => r['event_id']).sort()).toEqual(events.map((e) => e['event_id']).sort());

    const errors: Array<{ code: string; record?: string }> = [];
    for (const key of await keys(store, 'errors/click_events/')) for (const line of gunzipSync(await store.getBytes(key)).toString('utf8').trimEnd().split('\n')) errors.push(JSON.parse(line) as { code: string; record?: string });
    expect(errors.filter((e) => e.code === 'framing').map((e) => e.record)).toEqual([garbage.toString()]);
    expect(errors.filter((e) => e.code !== 'framing').map((e) => e.record).sort()).toEqual(invalid.map((ev) => JSON.stringify(ev)).sort());
    const summary = JSON.parse(run.stdout) as { totals: { written: number; duplicates: number; rejected: number } };
    expect(summary.totals).toMatchObject({ written: events.length, duplicates: 5, rejected: invalid.length + 1 });
  });
});

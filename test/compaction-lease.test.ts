/**
 * Two runs on one unit at once, kept apart by the unit lease (S3 conditional writes), on a local
 * lake and on moto_server: one compacts and the other skips saying who holds the unit, also when
 * one of them saw a late Firehose object the other missed; the lake ends equal to a serial run
 * and no manifest disagrees with its objects. A live lease is respected, an expired one (a dead
 * holder) taken over, a lost one stops the run before it commits, and a store that ignores
 * conditional writes (s3rver) is named once.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os, { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compactionContext, manifestSettings } from '../src/compaction/context.js';
import { leaseKey, takeLease } from '../src/compaction/commit/lease.js';
import { runUnits } from '../src/compaction/schedule/run.js';
import { planUnits } from '../src/compaction/schedule/scheduler.js';
import { compactUnit } from '../src/compaction/unit.js';
import { resolveSettings } from '../src/config/settings.js';
import { writeSyntheticLake } from '../src/demo/generate.js';
import { isClicklakeError } from '../src/errors.js';
import { HOUR_MS, hourPath } from '../src/partitions/hours.js';
import { loadTable } from '../src/schema/load.js';
import { openStore } from '../src/storage/open.js';
import type { ObjectStore } from '../src/storage/types.js';
import type { TableSpec } from '../src/schema/types.js';
import { finalLake, keysUnder, manifestsAgreeWithObjects } from './support/lake-invariants.js';
import { startTestS3, type TestS3 } from './support/s3-server.js';
import { motoSkipReason, startMotoS3, type ThirdPartyS3 } from './support/third-party-s3.js';

const HOUR = Date.UTC(2024, 4, 6, 12);
let spec: TableSpec;
let work: string;
let now = 0;
let seq = 0;

interface Lakes {
  name: string;
  start(): Promise<void>;
  stop(): Promise<void>;
  fresh(): Promise<ObjectStore>;
}

const local: Lakes = { name: 'a local lake', start: async () => undefined, stop: async () => undefined, fresh: async () => openStore(path.join(work, `lake-${++seq}`)) };
let moto: ThirdPartyS3 | undefined;
const onMoto: Lakes = {
  name: 'an s3:// lake on moto_server',
  start: async () => {
    moto = await startMotoS3({ bucket: 'clicklake-lease' });
  },
  stop: async () => moto?.close(),
  fresh: async () => openStore(`${moto!.uri}/lake-${++seq}`, { s3Client: moto!.client }),
};
const skipMoto = motoSkipReason();
if (skipMoto) console.warn(`skipping the lease tests on moto_server: ${skipMoto}`);

beforeAll(async () => {
  spec = await loadTable('click_events');
  work = await mkdtemp(path.join(tmpdir(), 'clicklake-lease-'));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

async function seed(store: ObjectStore): Promise<void> {
  const lake = await writeSyntheticLake({ store, table: 'click_events', seed: 4, events: 1500, startDate: '2024-05-06', days: 1, lateShare: 0 });
  now = lake.lastArrivalMs + 3 * HOUR_MS;
}

const ctxFor = (store: ObjectStore) => compactionContext({ store, spec, settings: resolveSettings({}, {}), now: () => now, workDir: work, memoryLimit: '300MB' });
const planHour = (store: ObjectStore, force = false) => planUnits(store, resolveSettings({}, {}).layout, 'click_events', { now, graceMs: 20 * 60_000, lookbackMs: 48 * HOUR_MS, hours: [HOUR], force, settings: manifestSettings(ctxFor(store)) });

/** A late Firehose object for the hour: a copy of one of its objects under a new name (its events are duplicates, its bytes new inputs). */
async function addLateObject(store: ObjectStore): Promise<void> {
  const [first] = await keysUnder(store, `raw/click_events/${hourPath(HOUR)}/`);
  const body = await store.getBytes(first!);
  await store.put(`raw/click_events/${hourPath(HOUR)}/zz-late-object`, Buffer.concat([body, Buffer.from('\n{"not":"an event"}\n')]));
}

describe.each([local, ...(skipMoto ? [] : [onMoto])])('the unit lease on $name', (lakes) => {
  beforeAll(() => lakes.start());
  afterAll(() => lakes.stop());

  it('lets one of two simultaneous runs compact the unit; the other skips it, naming the holder', async () => {
    const store = await lakes.fresh();
    await seed(store);
    const plan = await planHour(store);
    const [a, b] = await Promise.all(['run-a', 'run-b'].map((owner) => runUnits(ctxFor(store), plan.todo, { lease: { seconds: 600, owner } })));
    const compacted = [a!, b!].filter((r) => r.units.length === 1);
    const skipped = [a!, b!].filter((r) => r.skipped.length === 1);
    expect(compacted).toHaveLength(1);
    expect(skipped).toHaveLength(1);
    expect(skipped[0]!.skipped[0]!.heldBy).toMatch(/^run-[ab]$|committed meanwhile/);
    expect(await store.head(leaseKey('click_events', HOUR))).toBeUndefined();
    expect(await manifestsAgreeWithObjects(store)).toEqual([]);

    const reference = await lakes.fresh();
    await seed(reference);
    await runUnits(ctxFor(reference), (await planHour(reference)).todo);
    expect(await finalLake(store)).toEqual(await finalLake(reference));
  });

  it('ends equal to a serial run when one of two simultaneous runs saw a late object the other missed', async () => {
    const store = await lakes.fresh();
    await seed(store);
    const before = await planHour(store);
    await addLateObject(store);
    const after = await planHour(store);
    expect(after.todo[0]!.inputs.length).toBe(before.todo[0]!.inputs.length + 1);
    await Promise.all([runUnits(ctxFor(store), before.todo, { lease: { seconds: 600, owner: 'missed-it' } }), runUnits(ctxFor(store), after.todo, { lease: { seconds: 600, owner: 'saw-it' } })]);
    // Whichever won, the next scheduled run leaves the unit as a serial run over all inputs would.
    await runUnits(ctxFor(store), (await planHour(store)).todo, { lease: { seconds: 600 } });
    expect(await manifestsAgreeWithObjects(store)).toEqual([]);

    const reference = await lakes.fresh();
    await seed(reference);
    await addLateObject(reference);
    await runUnits(ctxFor(reference), (await planHour(reference)).todo);
    expect(await finalLake(store)).toEqual(await finalLake(reference));
  });

  it('respects a live lease, takes over an expired one, and one whose holder on this host has exited', async () => {
    const store = await lakes.fresh();
    await seed(store);
    const plan = await planHour(store);
    const lease = (owner: string, expiresMs: number) => JSON.stringify({ owner, hour: '2024-05-06T12', takenAt: new Date(expiresMs - 600_000).toISOString(), expiresAt: new Date(expiresMs).toISOString() });
    await store.put(leaseKey('click_events', HOUR), lease('busy-host:42', Date.now() + 300_000));
    const held = await runUnits(ctxFor(store), plan.todo, { lease: { seconds: 600 } });
    expect(held.units).toEqual([]);
    expect(held.skipped).toEqual([{ hour: '2024-05-06T12', heldBy: 'busy-host:42', until: expect.any(String) }]);

    await store.put(leaseKey('click_events', HOUR), lease('dead-host:7', Date.now() - 1000));
    const logged: string[] = [];
    const taken = await runUnits(ctxFor(store), plan.todo, { lease: { seconds: 600, log: (m) => logged.push(m) } });
    expect(taken.units.map((u) => u.hour)).toEqual(['2024-05-06T12']);
    expect(logged.some((m) => m.startsWith('took over the expired lease on click_events 2024-05-06T12 (held by dead-host:7'))).toBe(true);
    expect(await store.head(leaseKey('click_events', HOUR))).toBeUndefined();

    // A live lease of a process on this host that no longer runs (a crashed CLI run): taken over at once.
    await store.put(leaseKey('click_events', HOUR), lease(`${os.hostname()}:999999:crashed`, Date.now() + 300_000));
    const gone = await runUnits(ctxFor(store), (await planHour(store, true)).todo, { lease: { seconds: 600, log: (m) => logged.push(m) } });
    expect(gone.units.map((u) => u.hour)).toEqual(['2024-05-06T12']);
    expect(logged.some((m) => m.includes(`took over the abandoned lease on click_events 2024-05-06T12 (its holder, ${os.hostname()}:999999:crashed, is no longer running on this host)`))).toBe(true);
  });

  it('stops a run whose lease another run replaced before it commits anything', async () => {
    const store = await lakes.fresh();
    await seed(store);
    const taken = await takeLease(store, { table: 'click_events', hour: HOUR, seconds: 600, now: Date.now, owner: 'slow-run' });
    if (!('lease' in taken)) throw new Error('the lease should be free');
    await store.put(leaseKey('click_events', HOUR), JSON.stringify({ owner: 'usurper', expiresAt: new Date(Date.now() + 600_000).toISOString() }));
    await taken.lease.renew();
    const failure = await compactUnit(ctxFor(store), HOUR, undefined, taken.lease).catch((err: unknown) => err);
    expect(isClicklakeError(failure) && failure.code).toBe('lease_lost');
    expect((failure as Error).message).toMatch(/the lease on click_events 2024-05-06T12 was lost \(another run replaced it\): this run stops before committing/);
    expect(await keysUnder(store, '_manifests/')).toEqual([]);
    expect(await keysUnder(store, 'curated/')).toEqual([]);
    await taken.lease.release();
    expect(JSON.parse((await store.getBytes(leaseKey('click_events', HOUR))).toString())).toMatchObject({ owner: 'usurper' });
  });
});

describe('a store that ignores conditional writes', () => {
  let s3: TestS3;
  beforeAll(async () => {
    s3 = await startTestS3({ bucket: 'clicklake-lease-s3rver' });
  });
  afterAll(async () => {
    await s3?.close();
  });

  it('is named once per run (s3rver)', async () => {
    const store = openStore(`${s3.uri}/lake`, { s3Client: s3.client });
    await seed(store);
    const plan = await planUnits(store, resolveSettings({}, {}).layout, 'click_events', { now, graceMs: 20 * 60_000, lookbackMs: 48 * HOUR_MS, all: true, settings: manifestSettings(ctxFor(store)) });
    const logged: string[] = [];
    const summary = await runUnits(ctxFor(store), plan.todo.slice(0, 3), { lease: { seconds: 600, log: (m) => logged.push(m) } });
    expect(summary.units).toHaveLength(3);
    const warnings = new Set(logged.filter((m) => m.includes('ignores conditional writes')));
    expect([...warnings]).toEqual([`warning: ${store.uri} ignores conditional writes (If-None-Match), so the unit lease cannot keep two runs apart there: run one compaction at a time`]);
  });
});

/**
 * Crashes at every step of the commit protocol, for real: the CLI runs as a child process and is
 * SIGKILLed right after its k-th write took effect (each Parquet output, the errors object, each
 * stale output removed, the manifest, unit after unit): on an S3 server (s3rver) through a proxy
 * that kills it before the answer reaches it, and on a file:// lake through a preloaded hook
 * (test/support/kill-after-writes.mjs) that kills it right after the file was renamed into place
 * or removed. After each crash no manifest disagrees with the objects it names, and one rerun gives
 * the same lake as a run that never crashed.
 *
 * Stale outputs exist only in a recompaction whose events moved to fewer dates: a unit first
 * compacted into three dates (and an errors object), whose raw object is then replaced so that
 * all its events fall on one date; the recompaction first withdraws the unit's manifest (it then
 * names no object), overwrites that date's file, removes the errors object and the two other
 * dates' files, and writes its manifest. At every kill point every manifest present, withdrawn
 * or not, agrees with the objects it names.
 *
 * Readers: on the file:// lake a reader polls the curated zone while each crashed run writes, and
 * at each kill point every file a reader can see is read whole by hyparquet and DuckDB; the hook
 * also kills the CLI halfway through writing each file, which would leave half a file under its
 * own name if the local store wrote in place.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeSyntheticLake } from '../src/demo/generate.js';
import type { UnitManifest } from '../src/manifest/manifest.js';
import { formatHour } from '../src/partitions/hours.js';
import { DEFAULT_LAYOUT, manifestKey, rawHourPrefix } from '../src/partitions/layout.js';
import { openStore } from '../src/storage/open.js';
import type { ObjectStore } from '../src/storage/types.js';
import { clickEvent, uuidFor } from './support/firehose-corpus.js';
import { finalLake, keysUnder, manifestsAgreeWithObjects, withdrawnManifests } from './support/lake-invariants.js';
import { startFaultProxy, type FaultProxy, type ProxiedRequest } from './support/fault-proxy.js';
import { s3rverEnv, startTestS3, type TestS3 } from './support/s3-server.js';
import { readCurated, startCuratedReader } from './support/whole-parquet.js';

const ENTRY = path.resolve('test/support/cli-entry.ts');
const HOOK = path.resolve('test/support/kill-after-writes.mjs');
const TABLE = 'click_events';
let s3: TestS3;
let proxy: FaultProxy;
let root: string;
let now = '';
let hours: string[] = [];
let lakeSeq = 0;

type Ended = { code: number | null; signal: NodeJS.Signals | null; stderr: string };

/** A write of the commit protocol (the lease's own writes are not steps of it). */
const isWrite = (r: ProxiedRequest): boolean => (r.method === 'PUT' || r.method === 'DELETE' || (r.method === 'POST' && /uploads|uploadId/.test(r.path))) && !r.path.includes('/raw/') && !r.path.includes('/_leases/');

/** Has the proxy kill the child it is given once S3 has carried out the k-th write; returns the setter for that child. */
function killAfterWrite(k: number): (child: ChildProcess) => void {
  let child: ChildProcess | undefined;
  let seen = 0;
  proxy.afterForward = (r) => {
    if (!isWrite(r) || ++seen !== k) return false;
    child!.kill('SIGKILL');
    return true;
  };
  return (c) => (child = c);
}
/** A proxied write as `<METHOD> <key>`. */
const writeName = (r: ProxiedRequest): string => `${r.method} ${decodeURIComponent(r.path.replace(/^\/[^/]+\/[^/]+\//, '').replace(/\?.*$/, ''))}`;

async function newLake(): Promise<{ uri: string; store: ObjectStore }> {
  const uri = `${s3.uri}/lake-${++lakeSeq}`;
  const store = openStore(uri, { s3Client: s3.client });
  await writeSyntheticLake({ store, table: TABLE, seed: 9, events: 900, startDate: '2024-05-06', days: 1 });
  return { uri, store };
}

function ended(child: ChildProcess): Promise<Ended> {
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  return new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal, stderr })));
}

const compactArgs = (lake: string, at: string, units: string[]): string[] => ['compact', '--lake', lake, '--now', at, ...units.flatMap((h) => ['--hour', h])];

/** The CLI in its own process, through the proxy; resolves with how it ended. */
function compactChild(uri: string, onSpawn: (child: ChildProcess) => void = () => undefined, at = now, units = hours): Promise<Ended> {
  const env = { ...process.env, ...s3rverEnv(proxy.endpoint) };
  const child = spawn(process.execPath, ['--import', 'tsx', ENTRY, ...compactArgs(uri, at, units)], { cwd: process.cwd(), env, stdio: ['ignore', 'ignore', 'pipe'] });
  onSpawn(child);
  return ended(child);
}

/** The CLI in its own process on a file:// lake, with the kill hook preloaded. */
function compactLocal(dir: string, kill: { afterWrite?: number; midWrite?: number } = {}, at = now, units = hours): Promise<Ended> {
  const env: NodeJS.ProcessEnv = { ...process.env, CLICKLAKE_TEST_LAKE_DIR: dir };
  if (kill.afterWrite) env['CLICKLAKE_TEST_KILL_AFTER_WRITES'] = String(kill.afterWrite);
  if (kill.midWrite) env['CLICKLAKE_TEST_KILL_MID_WRITE'] = String(kill.midWrite);
  const child = spawn(process.execPath, ['--import', 'tsx', '--import', HOOK, ENTRY, ...compactArgs(dir, at, units)], { cwd: process.cwd(), env, stdio: ['ignore', 'ignore', 'pipe'] });
  return ended(child);
}

/** The hook's report of an uncrashed run: its writes and the files it opened for writing. */
function hookReport(stderr: string): { writes: string[]; opens: string[] } {
  const lines = stderr.split('\n');
  return { writes: lines.filter((l) => l.startsWith('write: ')).map((l) => l.slice(7)), opens: lines.filter((l) => l.startsWith('open: ')).map((l) => l.slice(6)) };
}

/** What a reader sees in a file:// lake's curated zone at a kill point: whole files only. */
async function expectWholeFiles(dir: string, when: string): Promise<void> {
  const view = await readCurated(dir, { duckdb: true });
  expect(view.problems, `a reader ${when}`).toEqual([]);
}

beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'clicklake-crash-'));
  s3 = await startTestS3({ bucket: 'clicklake-crash' });
  proxy = await startFaultProxy(s3.endpoint);
  const lake = await writeSyntheticLake({ store: openStore(`${s3.uri}/probe`, { s3Client: s3.client }), table: TABLE, seed: 9, events: 900, startDate: '2024-05-06', days: 1 });
  now = new Date(lake.lastArrivalMs + 3 * 3_600_000).toISOString();
  hours = [9, 12, 20].map((h) => formatHour(Date.UTC(2024, 4, 6, h)));
});
afterAll(async () => {
  await proxy?.close();
  await s3?.close();
  await rm(root, { recursive: true, force: true });
});

describe('SIGKILL after every write of the commit protocol', () => {
  it('leaves no manifest that disagrees with its objects, and one rerun gives the uncrashed lake', async () => {
    const reference = await newLake();
    const from = proxy.requests.length;
    const uncrashed = await compactChild(reference.uri);
    expect(uncrashed.code, uncrashed.stderr).toBe(0);
    const writes = proxy.requests.slice(from).filter(isWrite).map(writeName);
    expect(writes.filter((w) => w.includes(' _manifests/'))).toHaveLength(hours.length);
    expect(writes.some((w) => w.includes(' curated/'))).toBe(true);
    expect(writes.some((w) => w.includes(' errors/'))).toBe(true);
    const expected = await finalLake(reference.store);

    const crashes: string[] = [];
    for (let k = 1; k <= writes.length; k++) {
      const lake = await newLake();
      const crashed = await compactChild(lake.uri, killAfterWrite(k));
      proxy.afterForward = () => false;
      expect(crashed.signal, `crash after write ${k} (${writes[k - 1]})`).toBe('SIGKILL');
      expect(await manifestsAgreeWithObjects(lake.store), `after the crash at write ${k}`).toEqual([]);
      const rerun = await compactChild(lake.uri);
      expect(rerun.code, rerun.stderr).toBe(0);
      expect(await finalLake(lake.store), `rerun after a crash at write ${k} (${writes[k - 1]})`).toEqual(expected);
      crashes.push(writes[k - 1]!);
    }
    console.log(`crashed after each of ${crashes.length} writes: ${crashes.join(', ')}`);
  }, 600_000);
});

describe('SIGKILL after every write of the commit protocol, on a file:// lake', () => {
  async function localLake(): Promise<{ dir: string; store: ObjectStore }> {
    const dir = path.join(root, `local-${++lakeSeq}`);
    const store = openStore(dir);
    await writeSyntheticLake({ store, table: TABLE, seed: 9, events: 900, startDate: '2024-05-06', days: 1 });
    return { dir, store };
  }

  it('leaves no manifest that disagrees with its files, nothing but whole files for a reader, and one rerun gives the uncrashed lake', async () => {
    const reference = await localLake();
    const uncrashed = await compactLocal(reference.dir);
    expect(uncrashed.code, uncrashed.stderr).toBe(0);
    const { writes } = hookReport(uncrashed.stderr);
    expect(writes.filter((w) => w.includes(' _manifests/'))).toHaveLength(hours.length);
    expect(writes.some((w) => w.includes(' curated/'))).toBe(true);
    const expected = await finalLake(reference.store);
    for (let k = 1; k <= writes.length; k++) {
      const lake = await localLake();
      const crashed = await compactLocal(lake.dir, { afterWrite: k });
      expect(crashed.signal, `crash after write ${k} (${writes[k - 1]})`).toBe('SIGKILL');
      expect(await manifestsAgreeWithObjects(lake.store), `after the crash at write ${k}`).toEqual([]);
      await expectWholeFiles(lake.dir, `after the crash at write ${k} (${writes[k - 1]})`);
      const rerun = await compactLocal(lake.dir);
      expect(rerun.code, rerun.stderr).toBe(0);
      expect(await finalLake(lake.store), `rerun after a crash at write ${k} (${writes[k - 1]})`).toEqual(expected);
    }
    console.log(`file:// lake: crashed after each of ${writes.length} writes: ${writes.join(', ')}`);
  }, 600_000);
});

/**
 * The stale-output scenario: arrival hour 2024-05-06 10:00 holds object `a` (30 events of May
 * 6th) and object `b` (20 events of May 5th, 20 of May 4th: a phone with a wrong clock, within
 * the 7-day skew, and a line that is not JSON). Compacted, the unit has three outputs and an
 * errors object. Then `b` is replaced (same key, new bytes: its 40 events re-sent with the right
 * times, all on May 6th, without the broken line), so the recompaction writes dt=2024-05-06 anew
 * and removes the errors object and the outputs of dt=2024-05-04 and dt=2024-05-05.
 */
const STALE_UNIT = Date.UTC(2024, 4, 6, 10);
const STALE_NOW = '2024-05-06T12:00:00.000Z';
const STALE_HOURS = [formatHour(STALE_UNIT)];
const STALE_DTS = ['2024-05-04', '2024-05-05', '2024-05-06'];
const STALE_MANIFEST = manifestKey(DEFAULT_LAYOUT, TABLE, STALE_UNIT);

function staleObject(which: 'a' | 'b' | 'b-moved'): { key: string; body: string } {
  const minute = (i: number): string => String(i % 60).padStart(2, '0');
  const events =
    which === 'a'
      ? Array.from({ length: 30 }, (_, i) => clickEvent(uuidFor(i, 'stale'), `2024-05-06T09:${minute(i)}:10Z`))
      : Array.from({ length: 40 }, (_, i) => {
          const at = which === 'b-moved' ? `2024-05-06T10:${minute(i)}:20Z` : i < 20 ? `2024-05-05T21:${minute(i)}:30Z` : `2024-05-04T18:${minute(i)}:40Z`;
          return clickEvent(uuidFor(100 + i, 'stale'), at, { restaurant_id: `rest-00${i % 3}` });
        });
  const lines = events.map((e) => JSON.stringify(e));
  if (which === 'b') lines.splice(7, 0, '{"event_id": "cut off');
  const name = which === 'a' ? 'clicklake-events-1-2024-05-06-10-02-00-aaaa' : 'clicklake-events-1-2024-05-06-10-07-00-bbbb';
  return { key: `${rawHourPrefix(DEFAULT_LAYOUT, TABLE, STALE_UNIT)}${name}`, body: `${lines.join('\n')}\n` };
}

async function putStaleRaw(store: ObjectStore, moved: boolean): Promise<void> {
  for (const o of moved ? [staleObject('b-moved')] : [staleObject('a'), staleObject('b')]) await store.put(o.key, o.body);
}

/** Copies every object of one lake into another (a lake compacted once, to be recompacted many times). */
async function copyLake(from: ObjectStore, to: ObjectStore): Promise<void> {
  for (const key of await keysUnder(from, '')) await to.put(key, await from.getBytes(key));
}

async function staleManifest(store: ObjectStore): Promise<UnitManifest> {
  return JSON.parse((await store.getBytes(manifestKey(DEFAULT_LAYOUT, TABLE, STALE_UNIT))).toString()) as UnitManifest;
}

/** The first compaction made three dates and an errors object; the recompaction one date and none. */
async function expectStaleScenario(compacted: ObjectStore, recompacted: ObjectStore): Promise<void> {
  const first = await staleManifest(compacted);
  expect(first.outputs.map((o) => o.dt)).toEqual(STALE_DTS);
  expect(first.errorsKey).not.toBeNull();
  const second = await staleManifest(recompacted);
  expect(second.outputs.map((o) => [o.dt, o.rows])).toEqual([['2024-05-06', 70]]);
  expect(second.errorsKey).toBeNull();
  expect(Object.keys((await finalLake(recompacted)).files)).toEqual([second.outputs[0]!.key]);
}

/** The stale scenario on a file:// lake, compacted once (template) and recompacted uncrashed (reference); built once. */
let localStale: Promise<{ template: string; reference: string; first: Ended; recompaction: Ended }> | undefined;
function localStaleFixture(): Promise<{ template: string; reference: string; first: Ended; recompaction: Ended }> {
  localStale ??= (async () => {
    const template = path.join(root, 'stale-template');
    await putStaleRaw(openStore(template), false);
    const first = await compactLocal(template, {}, STALE_NOW, STALE_HOURS);
    expect(first.code, first.stderr).toBe(0);
    const reference = path.join(root, 'stale-reference');
    await cp(template, reference, { recursive: true });
    await putStaleRaw(openStore(reference), true);
    const recompaction = await compactLocal(reference, {}, STALE_NOW, STALE_HOURS);
    expect(recompaction.code, recompaction.stderr).toBe(0);
    return { template, reference, first, recompaction };
  })();
  return localStale;
}

/**
 * After a crashed recompaction: every manifest present agrees with the objects it names (a
 * withdrawn one names none). Returns whether the unit's manifest is withdrawn.
 */
async function expectManifestsAgree(store: ObjectStore, when: string): Promise<boolean> {
  expect(await manifestsAgreeWithObjects(store), `manifests ${when}`).toEqual([]);
  const withdrawn = await withdrawnManifests(store);
  expect(withdrawn.filter((k) => k !== STALE_MANIFEST), when).toEqual([]);
  return withdrawn.length > 0;
}

/** The recompaction's writes begin with the withdrawal of the unit's manifest and end with its new manifest, and touch it nowhere else. */
function expectWithdrawalFirst(writes: string[]): void {
  const manifestWrites = writes.flatMap((w, i) => (w.endsWith(` ${STALE_MANIFEST}`) ? [i] : []));
  expect(manifestWrites).toEqual([0, writes.length - 1]);
}

describe('SIGKILL after every write of a recompaction that removes stale outputs', () => {
  it('on S3: the manifest is withdrawn before anything it names is touched, no manifest disagrees with its objects after any crash, and one rerun gives the uncrashed recompaction', async () => {
    const template = { uri: `${s3.uri}/stale-template`, store: openStore(`${s3.uri}/stale-template`, { s3Client: s3.client }) };
    await putStaleRaw(template.store, false);
    const first = await compactChild(template.uri, undefined, STALE_NOW, STALE_HOURS);
    expect(first.code, first.stderr).toBe(0);

    const reference = { uri: `${s3.uri}/stale-reference`, store: openStore(`${s3.uri}/stale-reference`, { s3Client: s3.client }) };
    await copyLake(template.store, reference.store);
    await putStaleRaw(reference.store, true);
    const from = proxy.requests.length;
    const uncrashed = await compactChild(reference.uri, undefined, STALE_NOW, STALE_HOURS);
    expect(uncrashed.code, uncrashed.stderr).toBe(0);
    await expectStaleScenario(template.store, reference.store);
    const writes = proxy.requests.slice(from).filter(isWrite).map(writeName);
    expect(writes.filter((w) => w.startsWith('DELETE curated/')).map((w) => /dt=([\d-]+)/.exec(w)![1])).toEqual(['2024-05-04', '2024-05-05']);
    expect(writes.filter((w) => w.startsWith('DELETE errors/'))).toHaveLength(1);
    expectWithdrawalFirst(writes);
    const expected = await finalLake(reference.store);

    const withdrawnAt: number[] = [];
    for (let k = 1; k <= writes.length; k++) {
      const lake = { uri: `${s3.uri}/stale-${++lakeSeq}`, store: openStore(`${s3.uri}/stale-${lakeSeq}`, { s3Client: s3.client }) };
      await copyLake(template.store, lake.store);
      await putStaleRaw(lake.store, true);
      const crashed = await compactChild(lake.uri, killAfterWrite(k), STALE_NOW, STALE_HOURS);
      proxy.afterForward = () => false;
      expect(crashed.signal, `crash after write ${k} (${writes[k - 1]})`).toBe('SIGKILL');
      const withdrawn = await expectManifestsAgree(lake.store, `after the crash at write ${k} (${writes[k - 1]})`);
      if (withdrawn) withdrawnAt.push(k);
      const rerun = await compactChild(lake.uri, undefined, STALE_NOW, STALE_HOURS);
      expect(rerun.code, rerun.stderr).toBe(0);
      if (withdrawn) expect(rerun.stderr, `the rerun after the crash at write ${k}`).toContain('2024-05-06T10 (interrupted)');
      expect(await manifestsAgreeWithObjects(lake.store), `after the rerun of the crash at write ${k}`).toEqual([]);
      expect(await finalLake(lake.store), `rerun after a crash at write ${k} (${writes[k - 1]})`).toEqual(expected);
    }
    expect(withdrawnAt).toEqual(Array.from({ length: writes.length - 1 }, (_, i) => i + 1));
    console.log(`S3 recompaction: crashed after each of ${writes.length} writes: ${writes.join(', ')}; the unit's manifest was withdrawn (naming no object) after crashes ${withdrawnAt.join(', ')}`);
  }, 600_000);

  it('on a file:// lake: the same; a reader (polling meanwhile, and at each kill point) sees only whole files and misses no event', async () => {
    const { template, reference, recompaction } = await localStaleFixture();
    await expectStaleScenario(openStore(template), openStore(reference));
    const { writes } = hookReport(recompaction.stderr);
    expect(writes.filter((w) => w.startsWith('unlink curated/')).map((w) => /dt=([\d-]+)/.exec(w)![1])).toEqual(['2024-05-04', '2024-05-05']);
    expect(writes.filter((w) => w.startsWith('unlink errors/'))).toHaveLength(1);
    expectWithdrawalFirst(writes);
    const expected = await finalLake(openStore(reference));

    const expectedIds = new Set((await readCurated(reference)).eventIds);
    const withdrawnAt: number[] = [];
    const visible: string[] = [];
    let reads = 0;
    for (let k = 1; k <= writes.length; k++) {
      const dir = path.join(root, `stale-${++lakeSeq}`);
      await cp(template, dir, { recursive: true });
      const store = openStore(dir);
      await putStaleRaw(store, true);
      const reader = startCuratedReader(dir);
      const crashed = await compactLocal(dir, { afterWrite: k }, STALE_NOW, STALE_HOURS);
      const seen = await reader.stop();
      reads += seen.reads;
      const when = `after the crash at write ${k} (${writes[k - 1]})`;
      expect(crashed.signal, when).toBe('SIGKILL');
      expect(seen.problems, `a reader during the run killed after write ${k}`).toEqual([]);
      if (await expectManifestsAgree(store, when)) withdrawnAt.push(k);
      await expectWholeFiles(dir, when);
      // No event is missing to a reader at a kill point; until the rerun, the moved events may be
      // seen twice (on their new date, and in a stale output on their old one).
      const view = await readCurated(dir);
      expect([...expectedIds].filter((id) => !view.eventIds.includes(id)), `events a reader misses ${when}`).toEqual([]);
      visible.push(`${k}: ${view.rows} rows in ${view.files.length} files`);
      const rerun = await compactLocal(dir, {}, STALE_NOW, STALE_HOURS);
      expect(rerun.code, rerun.stderr).toBe(0);
      expect(await manifestsAgreeWithObjects(store), `after the rerun of the crash at write ${k}`).toEqual([]);
      expect(await finalLake(store), `rerun after a crash at write ${k} (${writes[k - 1]})`).toEqual(expected);
    }
    expect(withdrawnAt).toEqual(Array.from({ length: writes.length - 1 }, (_, i) => i + 1));
    console.log(
      `file:// recompaction: crashed after each of ${writes.length} writes (${writes.join(', ')}); the unit's manifest was withdrawn (naming no file) after crashes ${withdrawnAt.join(', ')}; ` +
        `a reader saw at each kill point (uncrashed: ${expectedIds.size} rows) ${visible.join('; ')}; a concurrent reader read ${reads} files`,
    );
  }, 600_000);
});

describe('SIGKILL halfway through writing a file, on a file:// lake', () => {
  it('leaves a reader only whole files, and one rerun gives the uncrashed lake (first compaction and recompaction)', async () => {
    // The stale scenario's first compaction (three outputs, errors, manifest: new files) and its
    // recompaction (the manifest withdrawn, then an output and the manifest written over the previous ones).
    const { template, reference, first, recompaction } = await localStaleFixture();
    const stages = [
      { name: 'first compaction', prepare: async (dir: string) => putStaleRaw(openStore(dir), false), expected: template, uncrashed: first },
      {
        name: 'recompaction',
        prepare: async (dir: string) => {
          await cp(template, dir, { recursive: true });
          await putStaleRaw(openStore(dir), true);
        },
        expected: reference,
        uncrashed: recompaction,
      },
    ];
    const killed: string[] = [];
    let reads = 0;
    for (const stage of stages) {
      const { opens } = hookReport(stage.uncrashed.stderr);
      expect(opens.filter((o) => o.startsWith('curated/')).length, stage.name).toBeGreaterThanOrEqual(1);
      expect(opens.some((o) => o.startsWith('_manifests/')), stage.name).toBe(true);
      const expected = await finalLake(openStore(stage.expected));
      for (let k = 1; k <= opens.length; k++) {
        const dir = path.join(root, `mid-${++lakeSeq}`);
        await stage.prepare(dir);
        const reader = startCuratedReader(dir);
        const crashed = await compactLocal(dir, { midWrite: k }, STALE_NOW, STALE_HOURS);
        const seen = await reader.stop();
        reads += seen.reads;
        const when = `${stage.name} killed halfway through writing ${opens[k - 1]}`;
        expect(crashed.signal, when).toBe('SIGKILL');
        expect(seen.problems, `a reader during the ${when}`).toEqual([]);
        await expectWholeFiles(dir, `after the ${when}`);
        await expectManifestsAgree(openStore(dir), `after the ${when}`);
        const rerun = await compactLocal(dir, {}, STALE_NOW, STALE_HOURS);
        expect(rerun.code, rerun.stderr).toBe(0);
        expect(await finalLake(openStore(dir)), `rerun after the ${when}`).toEqual(expected);
        killed.push(`${stage.name}: ${opens[k - 1]}`);
      }
    }
    console.log(`killed halfway through each of ${killed.length} file writes (${killed.join(', ')}); a concurrent reader read ${reads} files`);
  }, 600_000);
});

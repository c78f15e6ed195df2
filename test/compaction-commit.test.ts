/**
 * commitUnit's withdrawal of a unit's previous manifest, in process on a local lake whose store
 * records every write (and checks after each one that every manifest present agrees with the
 * objects it names): a first compaction writes no withdrawal; a recompaction writes exactly one,
 * before any output; a rerun after a crash right after it still removes the original's stale
 * objects; and under a lease a manifest another run changed refuses the withdrawal (or the final
 * manifest) with commit_conflict. Then the readers of a withdrawn manifest: the scheduler plans
 * its unit as `interrupted`, partitions sync and the cost model take nothing from it.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { manifestDts } from '../src/catalog/partitions-sync.js';
import { commitUnit, type CommitInput } from '../src/compaction/commit/commit.js';
import { planUnits } from '../src/compaction/schedule/scheduler.js';
import { speedFromLake } from '../src/cost/speed.js';
import { isClicklakeError } from '../src/errors.js';
import { fingerprintInputs, type UnitManifest } from '../src/manifest/manifest.js';
import { formatHour, HOUR_MS } from '../src/partitions/hours.js';
import { curatedFileKey, DEFAULT_LAYOUT, errorsKey, manifestKey, rawHourPrefix } from '../src/partitions/layout.js';
import { openStore } from '../src/storage/open.js';
import type { ObjectInfo, ObjectStore, PutCondition, PutOptions } from '../src/storage/types.js';
import { finalLake, keysUnder, manifestsAgreeWithObjects } from './support/lake-invariants.js';
import { ReadThroughStore } from './support/read-through-store.js';

const TABLE = 'click_events';
const HOUR = Date.UTC(2024, 4, 6, 10);
const MANIFEST = manifestKey(DEFAULT_LAYOUT, TABLE, HOUR);
const ERRORS = errorsKey(DEFAULT_LAYOUT, TABLE, HOUR);
const SETTINGS: UnitManifest['settings'] = { compression: 'ZSTD', maxSkewHours: 168, schemaHash: 'test' };
const out = (dt: string): string => curatedFileKey(DEFAULT_LAYOUT, TABLE, dt, HOUR);
let work: string;
let seq = 0;

beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'clicklake-commit-'));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

/** One write the store was asked for: `<op> <key>`, its condition, and the manifest state it wrote. */
interface Call {
  op: 'put' | 'putFile' | 'putIf' | 'delete';
  key: string;
  condition?: PutCondition;
  state?: string;
  etag?: string;
  refused?: boolean;
}
const named = (calls: Call[]): string[] => calls.map((c) => `${c.op} ${c.key}${c.state ? ` (${c.state})` : ''}`);

/**
 * A store that records every write, checks the commit invariant after each one it carried out,
 * and can fail a write before it happens (a crash there) or run something just before it.
 */
class RecordingStore extends ReadThroughStore {
  readonly calls: Call[] = [];
  readonly problems: string[] = [];
  failBefore?: (call: Call) => boolean;
  before?: (call: Call) => Promise<void>;
  put(key: string, body: Buffer | string, options?: PutOptions): Promise<{ etag: string }> {
    return this.write({ op: 'put', key, ...stateOf(key, body) }, () => this.inner.put(key, body, options));
  }
  putFile(key: string, localPath: string, options?: PutOptions): Promise<{ etag: string }> {
    return this.write({ op: 'putFile', key }, () => this.inner.putFile(key, localPath, options));
  }
  putIf(key: string, body: Buffer | string, condition: PutCondition, options?: PutOptions): Promise<{ etag: string }> {
    return this.write({ op: 'putIf', key, condition, ...stateOf(key, body) }, () => this.inner.putIf(key, body, condition, options));
  }
  async delete(key: string): Promise<void> {
    await this.write({ op: 'delete', key }, () => this.inner.delete(key));
  }
  private async write<T>(call: Call, fn: () => Promise<T>): Promise<T> {
    this.calls.push(call);
    await this.before?.(call);
    if (this.failBefore?.(call)) throw new Error(`injected failure before ${call.op} ${call.key}`);
    let result: T;
    try {
      result = await fn();
    } catch (err) {
      call.refused = isClicklakeError(err) && err.code === 'precondition_failed';
      throw err;
    }
    if (typeof result === 'object' && result !== null && 'etag' in result) call.etag = String(result.etag);
    this.problems.push(...(await manifestsAgreeWithObjects(this.inner)).map((p) => `after ${call.op} ${call.key}: ${p}`));
    return result;
  }
}

/** The manifest state a write of a manifest key carries ('committed' or 'replacing'). */
function stateOf(key: string, body: Buffer | string): { state?: string } {
  if (!key.startsWith('_manifests/')) return {};
  return { state: (JSON.parse(body.toString()) as UnitManifest).state ?? 'committed' };
}

async function lake(): Promise<RecordingStore> {
  return new RecordingStore(openStore(path.join(work, `lake-${++seq}`)));
}

/**
 * The unit's two versions: first compacted into three dates and an errors object, then (its raw
 * object replaced) into one date and none, as in the crash test's stale scenario. Fake Parquet
 * bytes, different in each run, so an overwritten output has a new size and ETag.
 */
async function runOf(version: 'first' | 'second'): Promise<Pick<CommitInput, 'files' | 'errorsFile' | 'manifest'>> {
  const dir = await mkdtemp(path.join(work, `${version}-`));
  const dts = version === 'first' ? ['2024-05-04', '2024-05-05', '2024-05-06'] : ['2024-05-06'];
  const files = await Promise.all(
    dts.map(async (dt) => {
      const file = path.join(dir, `${dt}.parquet`);
      await writeFile(file, `PAR1 ${version} ${dt} ${'x'.repeat(version === 'first' ? 10 : 40)} PAR1`);
      return { dt, file, rows: version === 'first' ? 20 : 70 };
    }),
  );
  let errorsFile: string | undefined;
  if (version === 'first') {
    errorsFile = path.join(dir, 'errors.ndjson.gz');
    await writeFile(errorsFile, 'a rejected record');
  }
  const rows = files.reduce((s, f) => s + f.rows, 0);
  const rejected = errorsFile ? 1 : 0;
  const startedMs = Date.UTC(2024, 4, 6, 12);
  return {
    files,
    errorsFile,
    manifest: {
      version: 1,
      table: TABLE,
      hour: formatHour(HOUR),
      fingerprint: `inputs of the ${version} run`,
      inputs: [],
      counts: { recordsIn: rows + rejected, written: rows, duplicates: 0, rejected, bytesIn: 100, bytesOut: 0 },
      unknownFields: {},
      rejectReasons: rejected ? { json: 1 } : {},
      settings: SETTINGS,
      startedAt: new Date(startedMs).toISOString(),
      startedMs,
      clicklakeVersion: 'test',
    },
  };
}

/** The unit's manifest as compaction reads it: the record and the ETag of the object. */
async function readUnitManifest(store: ObjectStore): Promise<{ manifest: UnitManifest | undefined; etag: string | undefined }> {
  const info = await store.head(MANIFEST);
  if (!info) return { manifest: undefined, etag: undefined };
  return { manifest: JSON.parse((await store.getBytes(MANIFEST)).toString()) as UnitManifest, etag: info.etag };
}

/** Commits a version of the unit over whatever manifest the store has now, with a lease as the CLI runs it (unless told otherwise). */
async function commit(store: ObjectStore, version: 'first' | 'second', options: { lease?: boolean; check?: () => void } = {}): Promise<UnitManifest> {
  const { manifest: previous, etag } = await readUnitManifest(store);
  return commitUnit({
    store,
    layout: DEFAULT_LAYOUT,
    table: TABLE,
    hour: HOUR,
    ...(await runOf(version)),
    previous,
    now: () => Date.UTC(2024, 4, 6, 12, 1),
    ...(options.lease === false ? {} : { lease: { check: options.check ?? (() => undefined), previousManifestEtag: etag } }),
  });
}

const manifestOf = async (store: ObjectStore): Promise<UnitManifest> => JSON.parse((await store.getBytes(MANIFEST)).toString()) as UnitManifest;
const failure = (promise: Promise<unknown>): Promise<unknown> => promise.then(() => new Error('expected a failure'), (err: unknown) => err);

describe('commitUnit: the previous manifest is withdrawn before anything it names is touched', () => {
  it('writes no withdrawal in a first compaction: outputs, errors object, then the manifest created with If-None-Match', async () => {
    const store = await lake();
    const manifest = await commit(store, 'first');
    expect(named(store.calls)).toEqual([`putFile ${out('2024-05-04')}`, `putFile ${out('2024-05-05')}`, `putFile ${out('2024-05-06')}`, `putFile ${ERRORS}`, `putIf ${MANIFEST} (committed)`]);
    expect(store.calls.at(-1)!.condition).toEqual({ ifNoneMatch: '*' });
    expect(store.problems).toEqual([]);
    expect(manifest.state).toBeUndefined();
    expect(Object.keys(await manifestOf(store))).not.toContain('withdrawn');
  });

  it('writes exactly one withdrawal in a recompaction, before any output, and the manifest last over the withdrawal', async () => {
    const store = await lake();
    await commit(store, 'first');
    const original = await readUnitManifest(store);
    store.calls.length = 0;
    const manifest = await commit(store, 'second');

    expect(named(store.calls)).toEqual([
      `putIf ${MANIFEST} (replacing)`,
      `putFile ${out('2024-05-06')}`,
      `delete ${ERRORS}`,
      `delete ${out('2024-05-04')}`,
      `delete ${out('2024-05-05')}`,
      `putIf ${MANIFEST} (committed)`,
    ]);
    const [withdrawal, ...rest] = store.calls;
    expect(withdrawal!.condition).toEqual({ ifMatch: original.etag });
    expect(rest.at(-1)!.condition).toEqual({ ifMatch: withdrawal!.etag });
    // At every step, every manifest present agreed with the objects it names.
    expect(store.problems).toEqual([]);
    expect(manifest.outputs.map((o) => o.key)).toEqual([out('2024-05-06')]);
    expect(manifest.errorsKey).toBeNull();
    expect(await keysUnder(store, 'curated/')).toEqual([out('2024-05-06')]);
    expect(await keysUnder(store, 'errors/')).toEqual([]);

    // The withdrawal changes nothing of the final lake: it is the one a first compaction of the same inputs gives.
    const fresh = await lake();
    await commit(fresh, 'second');
    expect(await finalLake(store)).toEqual(await finalLake(fresh));
  });

  it('writes the withdrawn record with no object named and the replaced commit in `withdrawn`', async () => {
    const store = await lake();
    await commit(store, 'first');
    const original = await manifestOf(store);
    store.failBefore = (call) => call.op === 'putFile';
    const crashed = await failure(commit(store, 'second'));
    expect(isClicklakeError(crashed) && crashed.code).toBe('commit_failed');
    const withdrawn = await manifestOf(store);
    expect(withdrawn).toEqual({ ...original, state: 'replacing', outputs: [], errorsKey: null, withdrawn: { outputs: original.outputs, errorsKey: original.errorsKey } });
    expect(Object.keys(withdrawn).slice(0, 2)).toEqual(['version', 'state']);
    expect(await manifestsAgreeWithObjects(store)).toEqual([]);
  });

  it('still removes the original stale outputs and errors object in a rerun after a crash right after the withdrawal, with no second withdrawal', async () => {
    const store = await lake();
    await commit(store, 'first');
    const originalOutputs = (await finalLake(store)).files;
    store.failBefore = (call) => call.op === 'putFile';
    const crashed = await failure(commit(store, 'second'));
    expect(isClicklakeError(crashed) && crashed.code).toBe('commit_failed');
    expect((crashed as Error).message).toMatch(/failed while uploading curated\/click_events\/dt=2024-05-06\/2024050610\.parquet: injected failure.*run compaction again to redo the unit/);
    // Nothing the original named was touched, and its manifest names none of it now.
    expect((await finalLake(store)).files).toEqual(originalOutputs);
    expect((await manifestOf(store)).state).toBe('replacing');

    store.failBefore = undefined;
    store.calls.length = 0;
    const withdrawnEtag = (await readUnitManifest(store)).etag;
    await commit(store, 'second');
    expect(named(store.calls)).toEqual([`putFile ${out('2024-05-06')}`, `delete ${ERRORS}`, `delete ${out('2024-05-04')}`, `delete ${out('2024-05-05')}`, `putIf ${MANIFEST} (committed)`]);
    expect(store.calls.at(-1)!.condition).toEqual({ ifMatch: withdrawnEtag });
    expect(store.problems).toEqual([]);
    const uncrashed = await lake();
    await commit(uncrashed, 'first');
    await commit(uncrashed, 'second');
    expect(await finalLake(store)).toEqual(await finalLake(uncrashed));
  });

  it('still removes them in a rerun after a crash midway (one output overwritten), without a lease too', async () => {
    const store = await lake();
    await commit(store, 'first', { lease: false });
    store.failBefore = (call) => call.op === 'delete';
    expect(isClicklakeError(await failure(commit(store, 'second', { lease: false })))).toBe(true);
    expect(store.problems).toEqual([]);
    expect(store.calls.filter((c) => c.key === MANIFEST).map((c) => `${c.op} ${c.state}`)).toEqual(['put committed', 'put replacing']);
    store.failBefore = undefined;
    store.calls.length = 0;
    await commit(store, 'second', { lease: false });
    expect(named(store.calls)).toEqual([`putFile ${out('2024-05-06')}`, `delete ${ERRORS}`, `delete ${out('2024-05-04')}`, `delete ${out('2024-05-05')}`, `put ${MANIFEST} (committed)`]);
    expect(await keysUnder(store, 'curated/')).toEqual([out('2024-05-06')]);
    expect(await keysUnder(store, 'errors/')).toEqual([]);
  });

  it('writes no withdrawal when the previous manifest names nothing (a unit that had no records)', async () => {
    const store = await lake();
    await commit(store, 'first');
    const empty: UnitManifest = { ...(await manifestOf(store)), outputs: [], errorsKey: null };
    await store.inner.put(MANIFEST, JSON.stringify(empty));
    store.calls.length = 0;
    await commit(store, 'second');
    expect(store.calls.filter((c) => c.key === MANIFEST).map((c) => c.state)).toEqual(['committed']);
  });

  it('refuses the withdrawal with commit_conflict when another run changed the manifest, before anything is written', async () => {
    const store = await lake();
    await commit(store, 'first');
    const before = await finalLake(store);
    // Another run commits between this run's read of the manifest and its withdrawal.
    store.before = async (call) => {
      if (call.key !== MANIFEST) return;
      store.before = undefined;
      await store.inner.put(MANIFEST, JSON.stringify({ ...(await manifestOf(store)), finishedAt: 'another run' }));
    };
    store.calls.length = 0;
    const conflict = await failure(commit(store, 'second'));
    expect(isClicklakeError(conflict) && conflict.code).toBe('commit_conflict');
    expect((conflict as Error).message).toMatch(/another run committed click_events 2024-05-06T10 while this one ran .*run compaction again to check the unit/);
    expect(store.calls).toMatchObject([{ op: 'putIf', key: MANIFEST, state: 'replacing', refused: true }]);
    expect((await finalLake(store)).files).toEqual(before.files);
    expect((await manifestOf(store)).finishedAt).toBe('another run');
    expect(await manifestsAgreeWithObjects(store)).toEqual([]);
  });

  it('refuses the final manifest with commit_conflict when another run replaced the withdrawal meanwhile', async () => {
    const store = await lake();
    await commit(store, 'first');
    store.before = async (call) => {
      if (call.op !== 'putFile') return;
      store.before = undefined;
      await store.inner.put(MANIFEST, JSON.stringify({ ...(await manifestOf(store)), finishedAt: 'another run' }));
    };
    store.calls.length = 0;
    const conflict = await failure(commit(store, 'second'));
    expect(isClicklakeError(conflict) && conflict.code).toBe('commit_conflict');
    expect(store.calls.filter((c) => c.key === MANIFEST).map((c) => `${c.state}${c.refused ? ' refused' : ''}`)).toEqual(['replacing', 'committed refused']);
  });

  it('checks the lease before the withdrawal: a run that lost it writes nothing', async () => {
    const store = await lake();
    await commit(store, 'first');
    store.calls.length = 0;
    const lost = await failure(
      commit(store, 'second', {
        check: () => {
          throw new Error('lease lost');
        },
      }),
    );
    expect((lost as Error).message).toBe('lease lost');
    expect(store.calls).toEqual([]);
  });
});

describe('readers of a withdrawn manifest', () => {
  /** A lake whose unit has one raw object and a manifest withdrawn by a recompaction that crashed (its fingerprint matching the inputs, as in a forced run). */
  async function withdrawnLake(): Promise<RecordingStore> {
    const store = await lake();
    await store.inner.put(`${rawHourPrefix(DEFAULT_LAYOUT, TABLE, HOUR)}clicklake-events-1`, '{"event_id":"x"}\n');
    await commit(store, 'first');
    const inputs: ObjectInfo[] = [];
    for await (const o of store.list(rawHourPrefix(DEFAULT_LAYOUT, TABLE, HOUR))) inputs.push(o);
    await store.inner.put(MANIFEST, JSON.stringify({ ...(await manifestOf(store)), fingerprint: fingerprintInputs(inputs), durationMs: 1000 }));
    store.failBefore = (call) => call.op === 'putFile';
    await failure(commit(store, 'first'));
    expect((await manifestOf(store)).state).toBe('replacing');
    return store;
  }
  const plan = (store: ObjectStore) => planUnits(store, DEFAULT_LAYOUT, TABLE, { now: HOUR + 3 * HOUR_MS, graceMs: 20 * 60_000, lookbackMs: 48 * HOUR_MS, hours: [HOUR], settings: SETTINGS });

  it('the scheduler redoes the unit as interrupted, even when its fingerprint and settings match', async () => {
    const store = await withdrawnLake();
    const planned = await plan(store);
    expect(planned.todo.map((u) => [formatHour(u.hour), u.reason])).toEqual([['2024-05-06T10', 'interrupted']]);
    expect(planned.todo[0]!.previous?.withdrawn?.outputs).toHaveLength(3);
    // Committed with the same fingerprint, the unit is up to date.
    await store.inner.put(MANIFEST, JSON.stringify({ ...(await manifestOf(store)), state: undefined, withdrawn: undefined, outputs: [] }));
    expect((await plan(store)).upToDate).toEqual(['2024-05-06T10']);
  });

  it('partitions sync registers no dt from it, and the cost model takes no speed from it', async () => {
    const store = await withdrawnLake();
    expect(await manifestDts(store, DEFAULT_LAYOUT, TABLE)).toEqual({ manifests: 1, dts: [] });
    const failed = await failure(speedFromLake(store, '_manifests/', 1769));
    expect(isClicklakeError(failed) && failed.code).toBe('no_manifests');
  });
});

/**
 * The compaction contract of DESIGN.md ("Compaction semantics") as scenarios, run by
 * test/compaction-local.test.ts over a file:// lake and by test/compaction-s3.test.ts over a real
 * S3-compatible server. Expected results come from the corpus' ground truth
 * (test/support/firehose-corpus.ts), never from running our SQL again.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.js';
import type { CliIO } from '../../src/cli/io.js';
import { compactionContext, manifestSettings } from '../../src/compaction/context.js';
import type { UnitManifest } from '../../src/manifest/manifest.js';
import { runUnits } from '../../src/compaction/schedule/run.js';
import { planUnits } from '../../src/compaction/schedule/scheduler.js';
import { compactUnit, type CompactionContext } from '../../src/compaction/unit.js';
import { resolveSettings } from '../../src/config/settings.js';
import { isClicklakeError } from '../../src/errors.js';
import { formatHour, hourPath } from '../../src/partitions/hours.js';
import { curatedFileKey, DEFAULT_LAYOUT, errorsKey, manifestKey } from '../../src/partitions/layout.js';
import { loadTable } from '../../src/schema/load.js';
import type { TableSpec } from '../../src/schema/types.js';
import { clickstream, type ClickEvent } from '../../src/synth/clickstream.js';
import { firehoseObjects, type PackedEventInfo } from '../../src/synth/firehose.js';
import type { ObjectStore, PutCondition, PutOptions } from '../../src/storage/types.js';
import { clickEvent, compareRows, DAY_MS, expectedRow, FirehoseCorpus, utcMillis, uuidFor, type JsonObject } from './firehose-corpus.js';
import { localCopy, readParquetRows, readWithHyparquet } from './parquet-read.js';
import { ReadThroughStore } from './read-through-store.js';

/** A fresh, empty lake in the store under test. */
export interface LakeHandle {
  /** Lake URI for the CLI (file:///abs or s3://bucket/prefix). */
  uri: string;
  store: ObjectStore;
}

/** How a test file provides lakes: a temp directory, or a prefix on a real S3-compatible server. */
export interface LakeProvider {
  name: string;
  setup(): Promise<void>;
  teardown(): Promise<void>;
  newLake(label: string): Promise<LakeHandle>;
  /** Environment the CLI's S3 client needs (endpoint, credentials), if any. */
  cliEnv(): Record<string, string>;
}

const TABLE = 'click_events';
const GRACE_MS = 20 * 60_000;
/** Arrival hours of the corpus: the last hour of May 1st and the first of May 2nd (UTC). */
export const H1 = Date.UTC(2024, 4, 1, 23);
export const H2 = Date.UTC(2024, 4, 2, 0);
/** Both hours closed (H2 ends 01:00, + 20 min grace). */
const NOW = H2 + 90 * 60_000;

/** A record that is not JSON: the framer may refuse it (`framing`) or the parser (`json`). */
const NOT_JSON = /^(json|framing)$/;

const md5 = (b: Buffer): string => createHash('md5').update(b).digest('hex');

/**
 * The hand-made corpus: two arrival hours, every framing, invalid records of many kinds,
 * duplicates within and across objects (and across units), unicode, late and skewed events,
 * garbage, a corrupt GZIP object.
 */
export function buildCorpus(): FirehoseCorpus {
  const c = new FirehoseCorpus(TABLE);
  let n = 0;
  const id = (): string => uuidFor(++n, 'corpus');
  const e1 = clickEvent(id(), '2024-05-01T23:10:00Z');
  const e8 = clickEvent(id(), '2024-05-01T23:21:00.5Z', { restaurant_id: 'rest-002', event_type: 'menu_view', item_id: null });
  const e14 = id();
  const e10 = clickEvent(id(), '2024-05-01T23:25:00Z');

  // H1 / A: NDJSON, plain, no extension.
  c.addObject(
    H1,
    'clicks-1-2024-05-01-23-05-00-aaaa',
    [
      { valid: e1 },
      { valid: clickEvent(id(), '2024-05-02T01:10:00.123+02:00') },
      { valid: clickEvent(id(), '2024-05-01T23:11:00.987654321Z', { restaurant_id: 'rest-002' }) },
      { valid: clickEvent(id(), '2024-05-01t23:12:00z', { event_type: 'scroll', scroll_depth_pct: 40, item_id: null }) },
      { invalid: clickEvent(id(), '2024-05-01T23:13:00Z', { event_type: 'menu_opened' }), code: 'schema:enum' },
      { invalid: withoutKey(clickEvent(id(), '2024-05-01T23:13:00Z'), 'restaurant_id'), code: 'schema:required' },
      { invalid: withoutKey(clickEvent(id(), '2024-05-01T23:13:00Z', { event_type: 'section_view' }), 'section'), code: 'schema:required' },
      { invalid: clickEvent(id(), '2024-05-01T23:13:00Z', { event_type: 'order_click', item_id: null }), code: /^schema:/ },
      { invalid: clickEvent(id(), '2024-03-31T23:13:00Z'), code: 'clock_skew' },
      // Not JSON, though it looks like a record: rejected by the framer or by the parser.
      { raw: `{"event_id":"${id()}","n":tru}`, code: NOT_JSON },
      { valid: clickEvent(id(), '2024-05-01T23:13:30Z', { event_type: 'order_click' }) },
      { garbage: 'not json at all' },
      { valid: clickEvent(id(), '2024-05-01T23:14:00-04:00', { item_name: 'Tiramisù 焼き 🍕 "quoted" \\ back', experiment: 'b', restaurant_id: 'rest-ü' }) },
      { valid: { event_id: id(), event_type: 'menu_view', event_time: '2024-05-01 23:15:00Z', session_id: 's', anonymous_id: 'a', restaurant_id: 'rest-003', menu_id: 'm' } },
      { valid: clickEvent(id(), '2024-05-01T23:16:00Z', { attributes: {}, viewport: { width: 360 }, referrer: 'https://www.google.com/' }), pretty: true },
    ],
    { framing: 'ndjson' },
  );

  // H1 / B: concatenated, GZIP, but named without .gz.
  const truncated = JSON.stringify(clickEvent(id(), '2024-05-01T23:24:00Z')).slice(0, 57);
  c.addObject(
    H1,
    'clicks-1-2024-05-01-23-20-00-bbbb',
    [
      { valid: e8 },
      { valid: clickEvent(id(), '2024-05-01T23:22:00Z') },
      { valid: e1 }, // a retrying producer: same event again, later object -> duplicate
      { garbage: truncated },
      { valid: e10 },
      { batch: [{ valid: clickEvent(id(), '2024-05-01T23:26:00Z') }, { valid: clickEvent(id(), '2024-05-01T23:26:00Z', { restaurant_id: 'rest-000' }) }, { invalid: clickEvent(id(), '2024-05-01T23:26:00Z', { price_cents: -5 }), code: 'schema:minimum' }] },
      { valid: clickEvent(e14, '2024-05-01T23:30:00Z', { item_name: 'later copy' }) },
    ],
    { framing: 'concatenated', gzip: true },
  );

  // H1 / C: named .gz but plain; an earlier copy of e14 wins the dedupe although its object sorts later.
  c.addObject(
    H1,
    'clicks-1-2024-05-01-23-40-00-cccc.gz',
    [
      { valid: clickEvent(e14, '2024-05-01T23:29:00Z', { item_name: 'earlier copy' }) },
      { batch: [{ valid: clickEvent(id(), '2024-05-01T23:41:00Z') }, { valid: clickEvent(id(), '2024-05-01T23:42:00Z') }], pretty: true },
      { raw: '[]', code: 'empty_batch' },
      { valid: clickEvent(id(), '2024-05-01T22:55:00Z') }, // late within the day: previous hour
      { raw: '{"event_id":1,}', code: NOT_JSON },
    ],
    { framing: 'concatenated' },
  );

  // H1 / D: looks like GZIP but is not: the whole object is one rejected record.
  const corrupt = Buffer.concat([Buffer.from([0x1f, 0x8b, 0x08, 0x00]), Buffer.from('definitely not deflate')]);
  c.addRawObject(H1, 'clicks-1-2024-05-01-23-45-00-dddd.gz', corrupt, [{ offset: 0, bytes: corrupt, expect: { code: 'gzip' } }]);

  // H1 / E: binary garbage between concatenated records (kept as base64 in the errors object).
  const before = Buffer.from(JSON.stringify(clickEvent(id(), '2024-05-01T23:50:00Z')));
  const binary = Buffer.from([0xff, 0xfe, 0x00, 0x01, 0x80, 0x41]);
  const afterEvent = clickEvent(id(), '2024-05-01T23:51:00Z');
  const after = Buffer.from(JSON.stringify(afterEvent));
  c.addRawObject(H1, 'clicks-1-2024-05-01-23-50-00-eeee', Buffer.concat([before, binary, after]), [
    { offset: 0, bytes: before, event: JSON.parse(before.toString()) as JsonObject, expect: 'valid' },
    { offset: before.length, bytes: binary, expect: { code: 'framing' } },
    { offset: before.length + binary.length, bytes: after, event: afterEvent, expect: 'valid' },
  ]);

  // H2 / F: GZIP NDJSON: late events of the previous day, and a copy of e8 (another unit: kept).
  c.addObject(
    H2,
    'clicks-1-2024-05-02-00-05-00-ffff.gz',
    [
      { valid: clickEvent(id(), '2024-05-02T00:10:00Z') },
      { valid: clickEvent(id(), '2024-05-01T23:58:30Z') },
      { valid: clickEvent(id(), '2024-05-02T01:59:00.999+02:00', { restaurant_id: 'rest-002' }) },
      { valid: e8 },
    ],
    { framing: 'ndjson', gzip: true },
  );
  // H2 / G: concatenated with a device clock a month ahead.
  c.addObject(
    H2,
    'clicks-1-2024-05-02-00-30-00-gggg',
    [
      { valid: clickEvent(id(), '2024-05-02T00:31:00+05:30', { locale: 'hi-IN' }) },
      { invalid: clickEvent(id(), '2024-06-02T00:31:00Z'), code: 'clock_skew' },
      { valid: clickEvent(id(), '2024-05-02T00:32:00Z', { section_index: 0, position: 0, price_cents: 0 }) },
    ],
    { framing: 'concatenated' },
  );
  return c;
}

function withoutKey(o: JsonObject, key: string): JsonObject {
  const { [key]: _dropped, ...rest } = o;
  return rest;
}

/** An object store that fails chosen writes: a crash injected at the I/O boundary. */
export class FailingStore extends ReadThroughStore {
  writes = 0;
  constructor(
    inner: ObjectStore,
    private readonly failOn: (key: string, writeNumber: number) => boolean,
  ) {
    super(inner);
  }
  private check(key: string): void {
    this.writes++;
    // Ends with a period, as the stores' own messages do.
    if (this.failOn(key, this.writes)) throw new Error(`injected failure writing ${key}. Check the store.`);
  }
  async put(key: string, body: Buffer | string, options?: PutOptions): Promise<{ etag: string }> {
    this.check(key);
    return this.inner.put(key, body, options);
  }
  async putFile(key: string, localPath: string, options?: PutOptions): Promise<{ etag: string }> {
    this.check(key);
    return this.inner.putFile(key, localPath, options);
  }
  async putIf(key: string, body: Buffer | string, condition: PutCondition, options?: PutOptions): Promise<{ etag: string }> {
    this.check(key);
    return this.inner.putIf(key, body, condition, options);
  }
  delete(key: string): Promise<void> {
    return this.inner.delete(key);
  }
}

async function keys(store: ObjectStore, prefix: string): Promise<string[]> {
  const found: string[] = [];
  for await (const o of store.list(prefix)) found.push(o.key);
  return found;
}

/** Key -> md5 of every object under the curated, errors and manifests prefixes. */
async function snapshot(store: ObjectStore, zones = ['curated/', 'errors/', '_manifests/']): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const zone of zones) for (const key of await keys(store, zone)) out[key] = md5(await store.getBytes(key));
  return out;
}

/** A manifest without what changes from run to run (times, durations). */
function stableManifest(m: UnitManifest): Omit<UnitManifest, 'startedAt' | 'finishedAt' | 'durationMs'> {
  const { startedAt: _s, finishedAt: _f, durationMs: _d, ...rest } = m;
  return rest;
}

/** The curated part of a lake after compaction: manifests, curated files (md5) and errors (md5). */
async function finalLake(store: ObjectStore): Promise<{ manifests: Record<string, unknown>; files: Record<string, string> }> {
  const manifests: Record<string, unknown> = {};
  for (const key of await keys(store, '_manifests/')) manifests[key] = stableManifest(JSON.parse((await store.getBytes(key)).toString()) as UnitManifest);
  return { manifests, files: await snapshot(store, ['curated/', 'errors/']) };
}

function bufferIO(cwd: string, env: Record<string, string> = {}): CliIO & { out: () => string; err: () => string } {
  let out = '';
  let err = '';
  return {
    stdout: { write: (s: string) => (out += s) },
    stderr: { write: (s: string) => (err += s) },
    env: { ...env },
    cwd,
    out: () => out,
    err: () => err,
  };
}

interface ErrorLine {
  source_key: string;
  offset: number;
  element?: number;
  code: string;
  errors: string[];
  record?: string;
  record_base64?: string;
}

/** Registers the scenarios for one store. */
export function compactionScenarios(provider: LakeProvider): void {
  describe(`compaction over ${provider.name}`, () => {
    let spec: TableSpec;
    let work: string;
    let seq = 0;

    beforeAll(async () => {
      await provider.setup();
      spec = await loadTable(TABLE);
      work = await mkdtemp(path.join(tmpdir(), 'clicklake-compaction-test-'));
    });
    afterAll(async () => {
      vi.unstubAllEnvs();
      await provider.teardown();
      if (work) await rm(work, { recursive: true, force: true });
    });

    const newLake = (label: string): Promise<LakeHandle> => provider.newLake(`${label}-${++seq}`);
    const context = (store: ObjectStore, now = NOW, compression: 'ZSTD' | 'SNAPPY' = 'ZSTD'): CompactionContext =>
      compactionContext({ store, spec, settings: resolveSettings({}, { compression }), now: () => now, workDir: work });
    const plan = (ctx: CompactionContext, now = NOW) =>
      planUnits(ctx.store, ctx.layout, TABLE, { now, graceMs: GRACE_MS, lookbackMs: 48 * 3_600_000, all: true, settings: manifestSettings(ctx) });
    const compactAll = async (ctx: CompactionContext, now = NOW) => {
      const p = await plan(ctx, now);
      return { plan: p, run: await runUnits(ctx, p.todo) };
    };
    const readManifest = async (store: ObjectStore, hour: number): Promise<UnitManifest> =>
      JSON.parse((await store.getBytes(manifestKey(DEFAULT_LAYOUT, TABLE, hour))).toString()) as UnitManifest;

    /** Every row of the unit's Parquet outputs (DuckDB), by dt, in file order. */
    async function unitRows(store: ObjectStore, manifest: UnitManifest): Promise<Record<string, JsonObject[]>> {
      const byDt: Record<string, JsonObject[]> = {};
      for (const o of manifest.outputs) {
        const file = await localCopy(work, `${seq}-${o.key}`, await store.getBytes(o.key));
        byDt[o.dt] = await readParquetRows(file, spec);
      }
      return byDt;
    }

    /** The rows a unit must hold, by dt, in the order compaction writes them. */
    function expectedRowsByDt(corpus: FirehoseCorpus, hour: number): Record<string, JsonObject[]> {
      const byDt: Record<string, JsonObject[]> = {};
      for (const ev of corpus.unit(hour).winners) {
        const dt = new Date(utcMillis(ev['event_time'] as string)).toISOString().slice(0, 10);
        (byDt[dt] ??= []).push(expectedRow(spec, ev));
      }
      for (const rows of Object.values(byDt)) rows.sort(compareRows);
      return byDt;
    }

    async function expectUnitMatchesTruth(store: ObjectStore, corpus: FirehoseCorpus, hour: number): Promise<UnitManifest> {
      const truth = corpus.unit(hour);
      const manifest = await readManifest(store, hour);
      const { counts } = manifest;
      expect(counts.recordsIn).toBe(counts.written + counts.duplicates + counts.rejected);
      expect({ recordsIn: counts.recordsIn, written: counts.written, duplicates: counts.duplicates, rejected: counts.rejected }).toEqual({
        recordsIn: truth.recordsIn,
        written: truth.written,
        duplicates: truth.duplicates,
        rejected: truth.rejected,
      });
      const expected = expectedRowsByDt(corpus, hour);
      expect(manifest.outputs.map((o) => o.key).sort()).toEqual(Object.keys(expected).map((dt) => curatedFileKey(DEFAULT_LAYOUT, TABLE, dt, hour)).sort());
      const got = await unitRows(store, manifest);
      for (const [dt, rows] of Object.entries(expected)) {
        expect(got[dt]?.map((r) => r['event_id']), `event ids of dt=${dt}`).toEqual(rows.map((r) => r['event_id']));
        expect(got[dt], `rows of dt=${dt}`).toEqual(rows);
        expect(manifest.outputs.find((o) => o.dt === dt)?.rows).toBe(rows.length);
      }
      return manifest;
    }

    async function errorLines(store: ObjectStore, hour: number): Promise<ErrorLine[]> {
      const text = gunzipSync(await store.getBytes(errorsKey(DEFAULT_LAYOUT, TABLE, hour))).toString('utf8');
      expect(text.endsWith('\n')).toBe(true);
      return text
        .trimEnd()
        .split('\n')
        .map((l) => JSON.parse(l) as ErrorLine);
    }

    it('writes exactly the valid unique events of every framing, with counts and rejects matching the ground truth', async () => {
      const { store } = await newLake('corpus');
      const corpus = buildCorpus();
      await corpus.upload(store);
      const ctx = context(store);
      const { plan: p, run } = await compactAll(ctx);
      expect(p.todo.map((u) => [formatHour(u.hour), u.reason])).toEqual([
        [formatHour(H1), 'new'],
        [formatHour(H2), 'new'],
      ]);
      expect(run.units.map((u) => u.hour)).toEqual([formatHour(H1), formatHour(H2)]);
      expect(run.deferred).toEqual([]);

      const m1 = await expectUnitMatchesTruth(store, corpus, H1);
      const m2 = await expectUnitMatchesTruth(store, corpus, H2);
      // The corpus exercises what it claims to.
      expect(corpus.unit(H1).duplicates).toBe(2);
      expect(corpus.unit(H1).rejected).toBeGreaterThanOrEqual(12);
      expect(m2.outputs.map((o) => o.dt).sort()).toEqual(['2024-05-01', '2024-05-02']);
      expect(m1.unknownFields).toEqual({ experiment: 1 });
      expect(m1.rejectReasons['clock_skew']).toBe(1);
      expect(m1.rejectReasons['gzip']).toBe(1);
      expect(m2.rejectReasons).toEqual({ clock_skew: 1 });
      expect(m1.inputs.map((i) => i.key)).toEqual(corpus.objects.filter((o) => o.hour === H1).map((o) => o.key).sort());

      // Nothing else in the curated zone than what the manifests list.
      expect((await keys(store, 'curated/')).sort()).toEqual([...m1.outputs, ...m2.outputs].map((o) => o.key).sort());
    });

    it('reads back with hyparquet (an independent reader) to the same rows', async () => {
      const { store } = await newLake('hyparquet');
      const corpus = buildCorpus();
      await corpus.upload(store);
      await compactAll(context(store));
      for (const hour of [H1, H2]) {
        const expected = expectedRowsByDt(corpus, hour);
        for (const o of (await readManifest(store, hour)).outputs) {
          const rows = await readWithHyparquet(await store.getBytes(o.key));
          const want = expected[o.dt]!;
          expect(rows).toHaveLength(want.length);
          expect(rows.map((r) => r['event_id'])).toEqual(want.map((r) => r['event_id']));
          expect(rows.map((r) => r['restaurant_id'])).toEqual(want.map((r) => r['restaurant_id']));
          expect(rows.map((r) => r['item_name'] ?? null)).toEqual(want.map((r) => r['item_name']));
          // TIMESTAMP(MILLIS) not adjusted to UTC: hyparquet gives the stored instant as a Date.
          expect(rows.map((r) => (r['event_time'] as Date).getTime())).toEqual(want.map((r) => r['event_time']));
          expect(rows.map((r) => (r['price_cents'] === null || r['price_cents'] === undefined ? null : String(r['price_cents'])))).toEqual(want.map((r) => r['price_cents']));
          expect(rows.map((r) => r['viewport'] ?? null)).toEqual(want.map((r) => r['viewport']));
        }
      }
    });

    it('keeps every rejected record in the errors object: reasons, source key, offset and the exact original bytes', async () => {
      const { store } = await newLake('errors');
      const corpus = buildCorpus();
      await corpus.upload(store);
      await compactAll(context(store));
      for (const hour of [H1, H2]) {
        const truth = corpus.unit(hour);
        const lines = await errorLines(store, hour);
        expect(lines).toHaveLength(truth.rejected);
        const where = (r: { source_key?: string; sourceKey?: string; offset: number; element?: number }) => `${r.source_key ?? r.sourceKey}@${r.offset}#${r.element ?? '-'}`;
        // Deterministic order: source key, offset, element.
        const sorted = [...lines].sort((a, b) => (a.source_key !== b.source_key ? (a.source_key < b.source_key ? -1 : 1) : a.offset - b.offset || (a.element ?? -1) - (b.element ?? -1)));
        expect(lines.map(where)).toEqual(sorted.map(where));
        expect(lines.map(where).sort()).toEqual(truth.rejects.map(where).sort());
        for (const reject of truth.rejects) {
          const line = lines.find((l) => where(l) === where(reject))!;
          const bytes = line.record !== undefined ? Buffer.from(line.record, 'utf8') : Buffer.from(line.record_base64 ?? '', 'base64');
          expect(bytes.equals(reject.bytes), `bytes of ${where(reject)}`).toBe(true);
          // The bytes are the slice of the (decompressed) source object at the offset.
          const object = corpus.objects.find((o) => o.key === reject.sourceKey)!;
          const source = reject.expect !== 'valid' && reject.expect.code === 'gzip' ? object.body : object.plain;
          expect(source.subarray(line.offset, line.offset + bytes.length).equals(bytes)).toBe(true);
          const code = (reject.expect as { code: string | RegExp }).code;
          if (typeof code === 'string') expect(line.code, where(reject)).toBe(code);
          else expect(line.code, where(reject)).toMatch(code);
          expect(line.errors.length).toBeGreaterThan(0);
          expect(line.errors.every((e) => typeof e === 'string' && e.length > 5)).toBe(true);
          if (line.code === 'clock_skew') expect(line.errors.join(' ')).toMatch(/clock skew/);
        }
        expect(lines.some((l) => l.code === 'validator_disagreement')).toBe(false);
      }
    });

    it('does nothing on a second run', async () => {
      const { store } = await newLake('rerun');
      const corpus = buildCorpus();
      await corpus.upload(store);
      const ctx = context(store);
      await compactAll(ctx);
      const before = await snapshot(store);
      const again = await plan(ctx);
      expect(again.todo).toEqual([]);
      expect(again.upToDate).toEqual([formatHour(H1), formatHour(H2)]);
      const run = await runUnits(ctx, again.todo);
      expect(run.units).toEqual([]);
      expect(await snapshot(store)).toEqual(before);
    });

    it('rewrites byte-identical outputs when a manifest is deleted and the unit redone', async () => {
      const { store } = await newLake('deterministic');
      const corpus = buildCorpus();
      await corpus.upload(store);
      const ctx = context(store);
      await compactAll(ctx);
      const first = await finalLake(store);
      await store.delete(manifestKey(DEFAULT_LAYOUT, TABLE, H1));
      const { plan: p } = await compactAll(ctx);
      expect(p.todo.map((u) => [formatHour(u.hour), u.reason])).toEqual([[formatHour(H1), 'new']]);
      expect(await finalLake(store)).toEqual(first);
      // And a forced redo of every unit too.
      const forced = await planUnits(store, ctx.layout, TABLE, { now: NOW, graceMs: GRACE_MS, lookbackMs: 48 * 3_600_000, all: true, force: true, settings: manifestSettings(ctx) });
      expect(forced.todo.map((u) => u.reason)).toEqual(['forced', 'forced']);
      await runUnits(ctx, forced.todo);
      expect(await finalLake(store)).toEqual(first);
    });

    it('recovers from a run killed before its manifest: the rerun gives the same lake as an uninterrupted run', async () => {
      const corpus = buildCorpus();
      const reference = await newLake('reference');
      await corpus.upload(reference.store);
      await compactAll(context(reference.store));
      const expected = await finalLake(reference.store);

      for (const [label, failOn] of [
        ['the manifest put', (key: string) => key.startsWith('_manifests/')],
        ['the first Parquet put', (key: string) => key.startsWith('curated/')],
        ['the errors object put', (key: string) => key.startsWith('errors/')],
        ['the second Parquet put of H2', (key: string) => key === curatedFileKey(DEFAULT_LAYOUT, TABLE, '2024-05-02', H2)],
      ] as const) {
        const { store } = await newLake('killed');
        await corpus.upload(store);
        const failing = new FailingStore(store, failOn);
        const error = await compactAll(context(failing)).then(
          () => undefined,
          (err: unknown) => err,
        );
        expect(isClicklakeError(error) && error.code, `crash on ${label}`).toBe('commit_failed');
        expect((error as Error).message).toMatch(/: injected failure writing \S+\. Check the store\. Nothing is committed; run compaction again to redo the unit$/);
        // The crashed unit has no manifest, so the next run redoes it.
        const p = await plan(context(store));
        expect(p.todo.length, label).toBeGreaterThan(0);
        expect(p.todo.every((u) => u.reason === 'new')).toBe(true);
        await runUnits(context(store), p.todo);
        expect(await finalLake(store), `after a crash on ${label}`).toEqual(expected);
      }
    });

    it('picks up a late Firehose object in a compacted hour (inputs_changed) without duplicating rows', async () => {
      const { store } = await newLake('late-object');
      const corpus = buildCorpus();
      await corpus.upload(store);
      const ctx = context(store);
      await compactAll(ctx);
      const firstH2 = await readManifest(store, H2);

      const e1 = corpus.records.find((r) => r.hour === H1 && r.expect === 'valid')!.event!;
      const late = corpus.addObject(
        H1,
        'clicks-1-2024-05-01-23-59-59-late',
        [{ valid: e1 }, { valid: clickEvent(uuidFor(1, 'late'), '2024-05-01T23:59:00Z') }, { invalid: clickEvent(uuidFor(2, 'late'), 'noon'), code: /^schema:/ }],
        { framing: 'ndjson' },
      );
      await store.put(late.key, late.body);

      const p = await plan(ctx);
      expect(p.todo.map((u) => [formatHour(u.hour), u.reason])).toEqual([[formatHour(H1), 'inputs_changed']]);
      await runUnits(ctx, p.todo);
      const m1 = await expectUnitMatchesTruth(store, corpus, H1);
      expect(m1.inputs.map((i) => i.key)).toContain(late.key);
      const ids = Object.values(await unitRows(store, m1))
        .flat()
        .map((r) => r['event_id']);
      expect(new Set(ids).size).toBe(ids.length);
      expect(ids).toContain(uuidFor(1, 'late'));
      expect(stableManifest(await readManifest(store, H2))).toEqual(stableManifest(firstH2));
    });

    it('leaves an hour that is not closed yet (per now and grace) alone', async () => {
      const { store } = await newLake('open-hour');
      const corpus = buildCorpus();
      await corpus.upload(store);
      const now = H2 + 60 * 60_000 + GRACE_MS - 1; // H2 ended, but its grace has not passed
      const ctx = context(store, now);
      const { plan: p } = await compactAll(ctx, now);
      expect(p.todo.map((u) => formatHour(u.hour))).toEqual([formatHour(H1)]);
      expect(await keys(store, `_manifests/${TABLE}/${hourPath(H2)}`)).toEqual([]);
      expect((await keys(store, 'curated/')).some((k) => k.endsWith(`${formatHour(H2).replace(/[-T]/g, '')}.parquet`))).toBe(false);
      await expect(planUnits(store, ctx.layout, TABLE, { now, graceMs: GRACE_MS, lookbackMs: 48 * 3_600_000, hours: [H2], settings: manifestSettings(ctx) })).rejects.toMatchObject({ code: 'hour_not_closed' });
    });

    it('compacts one unit with compactUnit directly', async () => {
      const { store } = await newLake('unit');
      const corpus = buildCorpus();
      await corpus.upload(store);
      const { manifest } = await compactUnit(context(store), H2);
      expect(manifest.hour).toBe(formatHour(H2));
      await expectUnitMatchesTruth(store, corpus, H2);
      expect(await keys(store, `_manifests/${TABLE}/${hourPath(H1)}`)).toEqual([]);
    });

    it('compacts a generated clickstream (synth packer) into exactly its valid unique events', async () => {
      const { store } = await newLake('synth');
      const truth: PackedEventInfo[] = [];
      const events = clickstream({ seed: 99, events: 1200, startMs: H1 - 30 * 60_000, spanMs: 90 * 60_000, restaurants: 4 });
      const objects = [...firehoseObjects(events, { seed: 99, invalidShare: 0.05, duplicateShare: 0.05, arrayShare: 0.2, objectBytes: 24_000, onRecord: (info) => truth.push(info) })];
      expect(objects.length).toBeGreaterThan(8);
      for (const o of objects) await store.put(`raw/${TABLE}/${hourPath(o.hour)}/${o.name}`, o.body);
      const ctx = context(store, NOW + DAY_MS);
      const { run } = await compactAll(ctx, NOW + DAY_MS);
      const hours = [...new Set(objects.map((o) => o.hour))].sort((a, b) => a - b);
      expect(run.units.map((u) => u.hour)).toEqual(hours.map(formatHour));
      for (const hour of hours) {
        const sent = truth.filter((t) => t.hour === hour);
        const kept = new Map<string, ClickEvent>();
        for (const t of sent) if (t.kind !== 'broken') kept.set(t.event.event_id, t.event);
        const copies = sent.filter((t) => t.kind !== 'broken').length;
        const manifest = await readManifest(store, hour);
        const { counts } = manifest;
        expect(counts.recordsIn).toBe(counts.written + counts.duplicates + counts.rejected);
        expect(counts.written).toBe(kept.size);
        expect(counts.duplicates).toBe(copies - kept.size);
        // Broken records adjacent in an object may frame as one garbage span: never more rejects than broken records.
        const broken = sent.filter((t) => t.kind === 'broken').length;
        expect(counts.rejected).toBeLessThanOrEqual(broken);
        expect(counts.rejected).toBeGreaterThan(broken / 2);
        expect(manifest.rejectReasons['validator_disagreement']).toBeUndefined();
        const rows = Object.values(await unitRows(store, manifest)).flat();
        const want = [...kept.values()].map((e) => expectedRow(spec, e));
        const byId = (a: JsonObject, b: JsonObject) => ((a['event_id'] as string) < (b['event_id'] as string) ? -1 : 1);
        expect(rows.sort(byId)).toEqual(want.sort(byId));
        if (counts.rejected > 0) expect(await errorLines(store, hour)).toHaveLength(counts.rejected);
      }
    });

    describe('the CLI', () => {
      const cli = async (args: string[], label = 'cli') => {
        const cwd = await mkdtemp(path.join(work, `${label}-cwd-`));
        const io = bufferIO(cwd);
        for (const [k, v] of Object.entries(provider.cliEnv())) vi.stubEnv(k, v);
        const code = await main(args, io);
        return { code, out: io.out(), err: io.err() };
      };

      it('compacts --all, then says there is nothing to compact', async () => {
        const { store, uri } = await newLake('cli');
        const corpus = buildCorpus();
        await corpus.upload(store);
        const first = await cli(['compact', '--lake', uri, '--all', '--now', new Date(NOW).toISOString()]);
        expect(first.err).not.toMatch(/internal error/);
        expect(first.code).toBe(0);
        const t1 = corpus.unit(H1);
        const row = first.out.split('\n').find((l) => l.includes(formatHour(H1)))!;
        expect(row).toMatch(new RegExp(`\\b${t1.recordsIn}\\b.*\\b${t1.written}\\b.*\\b${t1.duplicates}\\b.*\\b${t1.rejected}\\b`));
        expect(first.out).toMatch(/rejected by reason: .*clock_skew 2/);
        expect(first.out).toMatch(/unknown fields dropped \(schema drift\): experiment 1/);
        await expectUnitMatchesTruth(store, corpus, H1);
        await expectUnitMatchesTruth(store, corpus, H2);

        const second = await cli(['compact', '--lake', uri, '--all', '--now', new Date(NOW).toISOString()]);
        expect(second.code).toBe(0);
        expect(second.out).toMatch(/nothing to compact .*\(2 unit\(s\) up to date\)/);
      });

      it('--dry-run lists the units with their reasons and changes nothing', async () => {
        const { store, uri } = await newLake('cli-dry');
        const corpus = buildCorpus();
        await corpus.upload(store);
        const before = await snapshot(store, ['raw/', 'curated/', 'errors/', '_manifests/']);
        const dry = await cli(['compact', '--lake', uri, '--all', '--dry-run', '--now', new Date(NOW).toISOString()]);
        expect(dry.code).toBe(0);
        expect(dry.out).toMatch(/would compact 2 unit\(s\)/);
        expect(dry.out).toMatch(new RegExp(`${formatHour(H1)}\\s+new\\s+5 object\\(s\\)`));
        expect(dry.out).toMatch(new RegExp(`${formatHour(H2)}\\s+new\\s+2 object\\(s\\)`));
        expect(await snapshot(store, ['raw/', 'curated/', 'errors/', '_manifests/'])).toEqual(before);

        // After a late object, the dry run names the reason.
        await compactUnit(context(store), H1);
        const late = corpus.addObject(H1, 'clicks-late', [{ valid: clickEvent(uuidFor(9, 'late'), '2024-05-01T23:58:00Z') }], { framing: 'ndjson' });
        await store.put(late.key, late.body);
        const json = await cli(['compact', '--lake', uri, '--all', '--dry-run', '--json', '--now', new Date(NOW).toISOString()]);
        expect(json.code).toBe(0);
        const parsed = JSON.parse(json.out) as { todo: Array<{ hour: string; reason: string }> };
        expect(parsed.todo.map((u) => [u.hour, u.reason])).toEqual([
          [formatHour(H1), 'inputs_changed'],
          [formatHour(H2), 'new'],
        ]);
      });

      it('says where it looked for raw objects when no unit is in scope (a wrong --lake or table, or old data)', async () => {
        const { uri } = await newLake('cli-empty');
        const raw = `${uri.replace(/\/+$/, '')}/raw/click_events/`;
        const now = new Date(NOW).toISOString();
        const all = await cli(['compact', '--lake', uri, '--all', '--now', now]);
        expect(all).toMatchObject({ code: 0, out: `nothing to compact: no closed hour has raw objects under ${raw}\n` });
        const window = await cli(['compact', '--lake', uri, '--dry-run', '--lookback-hours', '6', '--now', now]);
        expect(window).toMatchObject({ code: 0, out: `nothing to compact: no closed hour of the last 6 hours has raw objects under ${raw} (--all looks at every hour)\n` });
      });

      it('names the fix for a memory limit that is not a size, or too small for a unit, and commits nothing', async () => {
        const { store, uri } = await newLake('cli-memory');
        await buildCorpus().upload(store);
        const now = new Date(NOW).toISOString();
        const notSize = await cli(['compact', '--lake', uri, '--all', '--now', now, '--memory-limit', 'lots']);
        expect(notSize.code).toBe(1);
        expect(notSize.err).toBe('error: --memory-limit "lots" is not a size: write it like 256MB, 512MiB or 1GB\n');
        const tooSmall = await cli(['compact', '--lake', uri, '--all', '--now', now, '--memory-limit', '1MB']);
        expect(tooSmall.code).toBe(1);
        expect(tooSmall.err).not.toMatch(/internal error/);
        expect(tooSmall.err).toMatch(/DuckDB ran out of memory within its 1MB limit and nothing was committed: raise --memory-limit/);
        expect(await keys(store, '_manifests/')).toEqual([]);
        expect(await keys(store, 'curated/')).toEqual([]);
        // The same run with the default limit then compacts both hours.
        expect((await cli(['compact', '--lake', uri, '--all', '--now', now])).code).toBe(0);
        expect(await keys(store, '_manifests/')).toHaveLength(2);
      });

      it('refuses --hour for an hour that is still open, with a clear error', async () => {
        const { store, uri } = await newLake('cli-open');
        await buildCorpus().upload(store);
        const now = new Date(H2 + 70 * 60_000).toISOString();
        const r = await cli(['compact', '--lake', uri, '--hour', formatHour(H2), '--now', now]);
        expect(r.code).toBe(1);
        expect(r.err).toMatch(/hour 2024-05-02T00 is still open/);
        expect(r.err.trim().split('\n')).toHaveLength(1);
        expect(await keys(store, '_manifests/')).toEqual([]);
        // Without --hour, the same clock compacts only the closed hour.
        const all = await cli(['compact', '--lake', uri, '--all', '--json', '--now', now]);
        expect(all.code).toBe(0);
        expect((JSON.parse(all.out) as { units: Array<{ hour: string }> }).units.map((u) => u.hour)).toEqual([formatHour(H1)]);
      });
    });
  });
}


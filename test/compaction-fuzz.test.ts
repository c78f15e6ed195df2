/**
 * Property-based fuzzing of compaction (fast-check), through compactUnit as compaction runs it:
 *
 * - records: generated click events mutated at random (any JSON value in any field, fields
 *   dropped or added, duplicate keys, `__proto__`, lone surrogates, huge numbers and strings,
 *   deep nesting, a BOM), CLICKLAKE_FUZZ_RECORDS of them per run (10,000 by default): the SQL
 *   validator and Ajv decide the same for every one, and records_in = written + duplicates + rejected;
 * - whole objects: valid records, garbage bytes, invalid UTF-8 and BOMs in every framing, GZIP'd,
 *   truncated GZIP: compaction finishes, the counts add up, and every record it could not frame
 *   or decode is in the errors object with its exact bytes.
 *
 * `npm run test:fuzz` runs 100,000 records.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compactionContext } from '../src/compaction/context.js';
import { compactUnit, type CompactionContext } from '../src/compaction/unit.js';
import { resolveSettings } from '../src/config/settings.js';
import { createAjv, type ValidateFunction } from '../src/schema/ajv.js';
import { loadTable } from '../src/schema/load.js';
import type { TableSpec } from '../src/schema/types.js';
import { openStore } from '../src/storage/open.js';
import type { ObjectStore } from '../src/storage/types.js';
import { clickstream } from '../src/synth/clickstream.js';
import { FirehoseCorpus, uuidFor } from './support/firehose-corpus.js';
import { readWithHyparquet } from './support/parquet-read.js';

const RECORDS = Number(process.env['CLICKLAKE_FUZZ_RECORDS'] ?? 10_000);
const PER_UNIT = 2_000;
const HOUR = Date.UTC(2024, 4, 1, 10);
const SEED = Number(process.env['CLICKLAKE_FUZZ_SEED'] ?? 20261204);

let spec: TableSpec;
let validate: ValidateFunction;
let work: string;
let store: ObjectStore;
let unitSeq = 0;
const base = [...clickstream({ seed: 3, events: 200, startMs: HOUR, spanMs: 3_000_000, restaurants: 3 })] as unknown as Array<Record<string, unknown>>;

beforeAll(async () => {
  spec = await loadTable('click_events');
  validate = createAjv().compile(spec.jsonSchema);
  work = await mkdtemp(path.join(tmpdir(), 'clicklake-fuzz-'));
  store = openStore(`file://${path.join(work, 'lake')}`);
});
afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

interface ErrorLine {
  offset: number;
  code: string;
  errors: string[];
  record?: string;
  record_base64?: string;
}

/** Compacts one object (its stored bytes) as its own unit; the manifest's counts and the errors lines. */
async function compactObject(body: Buffer): Promise<{ counts: { recordsIn: number; written: number; duplicates: number; rejected: number }; errors: ErrorLine[]; outputs: string[] }> {
  const hour = HOUR + unitSeq++ * 3_600_000;
  const key = new FirehoseCorpus().keyFor(hour, `fuzz-${unitSeq}`);
  await store.put(key, body);
  const ctx: CompactionContext = { ...compactionContext({ store, spec, settings: resolveSettings({}, {}), workDir: work, memoryLimit: '300MB' }), maxSkewMs: 1e15 };
  const { manifest } = await compactUnit(ctx, hour);
  const errors = manifest.errorsKey ? gunzipSync(await store.getBytes(manifest.errorsKey)).toString('utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as ErrorLine) : [];
  return { counts: manifest.counts, errors, outputs: manifest.outputs.map((o) => o.key) };
}

const fieldNames = (): string[] => [...Object.keys(spec.jsonSchema.properties as object), 'extra_field', 'Event_Type', ''];

/** Any JSON value, including the awkward ones, as JSON text. */
const jsonText = (): fc.Arbitrary<string> =>
  fc.oneof(
    fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v) ?? 'null'),
    fc.constantFrom('"\\ud800"', '"\\udfff x"', '"a\\u0000b"', '1e400', '-0', '12345678901234567890123', '-9223372036854775809', '9223372036854775807', '0.1e-400', '5.0', '1E2', '""', '[]', '{}', 'null'),
    fc.integer({ min: 1, max: 300 }).map((depth) => '['.repeat(depth) + ']'.repeat(depth)),
    fc.integer({ min: 1000, max: 200_000 }).map((n) => JSON.stringify('x'.repeat(n))),
    fc.string({ unit: 'grapheme', maxLength: 40 }).map((s) => JSON.stringify(s)),
  );

/** A click event's JSON text after a few random mutations; a fresh event id unless a mutation set one. */
const mutatedRecord = (): fc.Arbitrary<string> =>
  fc
    .record({
      ev: fc.constantFrom(...base),
      edits: fc.array(
        fc.oneof(
          fc.record({ op: fc.constant('set' as const), field: fc.constantFrom(...fieldNames()), value: jsonText() }),
          fc.record({ op: fc.constant('drop' as const), field: fc.constantFrom(...fieldNames()) }),
          fc.record({ op: fc.constant('duplicate' as const), field: fc.constantFrom(...fieldNames()), value: jsonText() }),
          fc.record({ op: fc.constant('proto' as const), value: jsonText() }),
        ),
        { maxLength: 3 },
      ),
      id: fc.nat(),
    })
    .map(({ ev, edits, id }) => {
      const fields = new Map<string, string>(Object.entries(ev).map(([k, v]) => [k, JSON.stringify(v)]));
      fields.set('event_id', JSON.stringify(uuidFor(id, 'fuzz')));
      const extra: string[] = [];
      for (const e of edits) {
        if (e.op === 'set') fields.set(e.field, e.value);
        else if (e.op === 'drop') fields.delete(e.field);
        else if (e.op === 'duplicate') extra.push(`${JSON.stringify(e.field)}:${e.value}`);
        else extra.push(`"__proto__":${e.value}`);
      }
      const members = [...fields].map(([k, v]) => `${JSON.stringify(k)}:${v}`).concat(extra);
      return `{${members.join(',')}}`;
    });

/**
 * A record that names a declared property twice: compaction's JS path decides it (and re-encodes
 * it). The scan over the text is rough (it sees keys at any depth), so only declared top-level
 * names count, which the generator never nests.
 */
function duplicatesDeclaredKey(text: string): boolean {
  const declared = new Set(Object.keys(spec.jsonSchema.properties as object));
  const keys = [...text.matchAll(/"((?:[^"\\]|\\.)*)":/g)].map((m) => JSON.parse(`"${m[1]}"`) as string).filter((k) => declared.has(k));
  return new Set(keys).size < keys.length;
}

/** ES2024's String.prototype.isWellFormed (Node 20 has it; the project's lib is older). */
interface WellFormed {
  isWellFormed(): boolean;
}

/** A string or key anywhere in `value` holding half a surrogate pair. */
function hasLoneSurrogate(value: unknown): boolean {
  if (typeof value === 'string') return !(value as unknown as WellFormed).isWellFormed();
  if (Array.isArray(value)) return value.some(hasLoneSurrogate);
  if (value !== null && typeof value === 'object') return Object.entries(value).some(([k, v]) => hasLoneSurrogate(k) || hasLoneSurrogate(v));
  return false;
}

const INT64 = { min: -(2n ** 63n), max: 2n ** 63n - 1n };

/**
 * A top-level bigint column's value is beyond 64 bits. JSON.parse rounds integers beyond 2^53, so
 * an integer literal is read from the text (the last one given, as JSON.parse keeps the last
 * duplicate); any other spelling (1e19, 9.3e18) is judged by its value, as DuckDB reads it.
 */
function bigintOutOfRange(text: string, record: Record<string, unknown>): boolean {
  return spec.columns.filter((c) => c.type.kind === 'bigint').some((c) => {
    const value = record[c.jsonName];
    if (typeof value !== 'number') return false;
    const last = [...text.matchAll(new RegExp(`"${c.name}":(-?\\d+)(?=[,}])`, 'g'))].at(-1)?.[1];
    if (last !== undefined && Number(last) === value) return BigInt(last) < INT64.min || BigInt(last) > INT64.max;
    return Math.abs(value) >= 2 ** 63;
  });
}

/**
 * What compaction must decide: Ajv's verdict (JSON.parse semantics: the last duplicate key
 * wins), except the rules the README's "Decisions that differ" adds: a string with half a
 * surrogate pair has no UTF-8 form, a bigint column holds 64 bits, and a record only the JS path
 * can read (a declared key given twice) cannot carry a bigint beyond 2^53.
 */
function referenceAccepts(text: string): boolean {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return false;
  }
  if (validate(value) !== true || hasLoneSurrogate(value)) return false;
  const record = value as Record<string, unknown>;
  if (bigintOutOfRange(text, record)) return false;
  // The JS path cannot write a bigint beyond 2^53 exactly (JSON.parse rounded it): it rejects it.
  const inexact = spec.columns.some((c) => c.type.kind === 'bigint' && typeof record[c.jsonName] === 'number' && !Number.isSafeInteger(record[c.jsonName]));
  return !(inexact && duplicatesDeclaredKey(text));
}

/** fast-check's failure report holds the whole counterexample (megabytes here): keep its head. */
async function assertShort(run: Promise<void>): Promise<void> {
  try {
    await run;
  } catch (err) {
    const text = String((err as Error).message);
    const cause = (err as { cause?: Error }).cause?.message ?? '';
    throw new Error(`${text.split('\n')[0]} ${text.match(/\{ seed: [^}]*\}/)?.[0] ?? ''}\n${cause.slice(0, 2000)}`);
  }
}

/** The bytes of an errors line. */
const keptBytes = (e: ErrorLine): Buffer => (e.record_base64 !== undefined ? Buffer.from(e.record_base64, 'base64') : Buffer.from(e.record!, 'utf8'));

describe('fuzzed records: SQL validator and Ajv agree', () => {
  it(`decides ${RECORDS} mutated records as Ajv does, and accounts for every one`, async () => {
    let total = 0;
    let accepted = 0;
    await assertShort(fc.assert(
      fc.asyncProperty(fc.array(mutatedRecord(), { minLength: PER_UNIT, maxLength: PER_UNIT }), async (records) => {
        // One record per line (JSON.stringify escapes line breaks); every 97th starts with a BOM,
        // which the framer keeps as a garbage span of its own before the record.
        const BOM = '\ufeff';
        const texts = records.map((t, i) => (i % 97 === 0 ? `${BOM}${t}` : t));
        const plain = Buffer.from(texts.map((t) => `${t}\n`).join(''), 'utf8');
        const offsets: number[] = [];
        let at = 0;
        for (const t of texts) {
          offsets.push(at);
          at += Buffer.byteLength(t) + 1;
        }
        const boms = texts.filter((t) => t.startsWith(BOM)).length;
        const { counts, errors } = await compactObject(plain);
        expect(counts.recordsIn).toBe(records.length + boms);
        expect(counts.written + counts.duplicates + counts.rejected).toBe(counts.recordsIn);
        expect(errors.filter((e) => e.code === 'validator_disagreement'), 'the SQL validator rejected what Ajv accepts').toEqual([]);
        const rejectedAt = new Set(errors.map((e) => e.offset));
        const disagreements: Array<{ record: string; ajv: string }> = [];
        texts.forEach((t, i) => {
          const bom = t.startsWith(BOM);
          const ajv = referenceAccepts(bom ? t.slice(1) : t);
          if (ajv) accepted++;
          if (ajv === rejectedAt.has(offsets[i]! + (bom ? 3 : 0))) disagreements.push({ record: t, ajv: ajv ? 'accepts' : 'rejects' });
          if (bom) expect(rejectedAt.has(offsets[i]!), 'the BOM before a record is kept as rejected bytes').toBe(true);
        });
        if (disagreements.length) console.error(JSON.stringify(disagreements.slice(0, 8).map((d) => ({ ajv: d.ajv, record: d.record.slice(0, 3000) })), null, 1));
        expect(disagreements.slice(0, 3), `${disagreements.length} disagreement(s)`).toEqual([]);
        // Every rejected record's bytes, exactly as they were in the object.
        for (const e of errors) {
          const kept = keptBytes(e);
          expect(kept.equals(plain.subarray(e.offset, e.offset + kept.length)), `errors line at ${e.offset}`).toBe(true);
        }
        total += records.length;
      }),
      { numRuns: Math.max(1, Math.ceil(RECORDS / PER_UNIT)), seed: SEED, endOnFailure: true },
    ));
    expect(total).toBeGreaterThanOrEqual(RECORDS);
    // Both verdicts well represented, or the property proves little.
    expect(accepted / total).toBeGreaterThan(0.15);
    expect(accepted / total).toBeLessThan(0.85);
  }, 900_000);
});

type ItemKind = 'record' | 'garbage';

/** One item of a fuzzed object, as bytes: a click event, or bytes that are no record. */
const objectItem = (): fc.Arbitrary<{ bytes: Buffer; kind: ItemKind }> =>
  fc.oneof(
    { weight: 5, arbitrary: fc.constantFrom(...base).map((ev) => ({ bytes: Buffer.from(JSON.stringify(ev)), kind: 'record' as const })) },
    { weight: 1, arbitrary: fc.uint8Array({ minLength: 1, maxLength: 60 }).map((b) => ({ bytes: Buffer.from(b.map((x) => (x === 0x0a ? 0x20 : x))), kind: 'garbage' as const })) },
    // A record with bytes that are not UTF-8 inside a string.
    { weight: 1, arbitrary: fc.constantFrom(...base).map((ev) => ({ bytes: Buffer.concat([Buffer.from(JSON.stringify(ev).slice(0, -1)), Buffer.from(',"note":"\xff\xfe"}', 'latin1')]), kind: 'garbage' as const })) },
    { weight: 1, arbitrary: fc.constant({ bytes: Buffer.from([0xef, 0xbb, 0xbf]), kind: 'garbage' as const }) },
  );

const isWhitespace = (c: number): boolean => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;

describe('fuzzed objects: nothing lost, nothing crashes', () => {
  it('finishes every object; every byte is in a written record or, exactly, in the errors object', async () => {
    await assertShort(fc.assert(
      fc.asyncProperty(fc.array(objectItem(), { minLength: 1, maxLength: 40 }), fc.constantFrom('ndjson', 'gzip', 'truncated-gzip'), async (items, packing) => {
        const plain = Buffer.concat(items.flatMap((i) => [i.bytes, Buffer.from('\n')]));
        const gz = gzipSync(plain);
        const body = packing === 'ndjson' ? plain : packing === 'gzip' ? gz : gz.subarray(0, Math.max(12, Math.floor(gz.length / 2)));
        const { counts, errors } = await compactObject(body);
        expect(counts.written + counts.duplicates + counts.rejected).toBe(counts.recordsIn);
        if (packing === 'truncated-gzip') {
          // The whole object, exactly as stored, under one reason.
          expect(errors.map((e) => e.code)).toEqual(['gzip']);
          expect(keptBytes(errors[0]!).equals(body)).toBe(true);
          return;
        }
        const spans = errors.map((e) => {
          const kept = keptBytes(e);
          expect(kept.equals(plain.subarray(e.offset, e.offset + kept.length)), `errors line at ${e.offset}`).toBe(true);
          return [e.offset, e.offset + kept.length] as const;
        });
        const overlapped = (a: number, b: number): boolean => spans.some(([s, e]) => s < b && a < e);
        let start = 0;
        let uncoveredRecords = 0;
        const covered = new Uint8Array(plain.length);
        for (const [s, e] of spans) covered.fill(1, s, e);
        for (const item of items) {
          const end = start + item.bytes.length;
          if (item.kind === 'garbage') expect(overlapped(start, end), 'a garbage item is in the errors object').toBe(true);
          else if (!overlapped(start, end)) {
            uncoveredRecords++;
            covered.fill(1, start, end);
          }
          start = end + 1;
        }
        // The records no errors line holds are the ones written (or dropped as repeats of an event id).
        expect(counts.written + counts.duplicates).toBe(uncoveredRecords);
        for (let i = 0; i < plain.length; i++) if (!covered[i] && !isWhitespace(plain[i]!)) throw new Error(`byte ${i} (0x${plain[i]!.toString(16)}) is neither written nor kept`);
      }),
      { numRuns: 60, seed: SEED, endOnFailure: true },
    ));
  }, 600_000);
});

describe('found by fuzzing', () => {
  it('rejects records that are not UTF-8 (in a declared field, an unknown one, or spread over lines) with their exact bytes, and keeps the rest', async () => {
    const [a, b, c, d] = base.slice(0, 4).map((ev) => JSON.stringify(ev));
    const bad = (text: string, at: string) => Buffer.concat([Buffer.from(text.slice(0, -1)), Buffer.from(`,"${at}":"`), Buffer.from([0xff, 0xfe, 0xc3]), Buffer.from('"}')]);
    const pretty = Buffer.from(JSON.stringify(JSON.parse(c!), null, 2).replace('"menu_id": "', '"menu_id": "\u0000'), 'utf8');
    const prettyBad = Buffer.concat([pretty.subarray(0, 20), Buffer.from([0xe9]), pretty.subarray(20)]);
    const items = [Buffer.from(a!), bad(b!, 'note'), bad(d!, 'item_name'), prettyBad, Buffer.from(d!)];
    const plain = Buffer.concat(items.flatMap((x) => [x, Buffer.from('\n')]));
    const { counts, errors } = await compactObject(plain);
    expect(counts).toMatchObject({ recordsIn: 5, written: 2, rejected: 3 });
    expect(errors.map((e) => e.code)).toEqual(['encoding', 'encoding', 'encoding']);
    const offsets = items.map((_, i) => items.slice(0, i).reduce((n, x) => n + x.length + 1, 0));
    expect(errors.map((e) => e.offset)).toEqual([offsets[1], offsets[2], offsets[3]]);
    expect(errors.map((e) => keptBytes(e))).toEqual([items[1], items[2], items[3]]);
  });
});

describe('found by fuzzing: bigints beyond 2^53', () => {
  const priced = (id: string, literal: string) => JSON.stringify({ ...base.find((e) => e['event_type'] === 'order_click'), event_id: id, price_cents: 0 }).replace('"price_cents":0', `"price_cents":${literal}`);

  it('keeps every digit of a pretty-printed record (it was rounded by JSON.parse when minified)', async () => {
    const one = priced(uuidFor(1, 'big'), '9007199254740993');
    const pretty = JSON.stringify(JSON.parse(one), null, 2).replace('9007199254740992', '9007199254740993');
    expect(pretty).toContain('"price_cents": 9007199254740993');
    const { counts, outputs, errors } = await compactObject(Buffer.from(`${pretty}\n${priced(uuidFor(2, 'big'), '9223372036854775807')}\n`));
    expect(counts, JSON.stringify(errors)).toMatchObject({ recordsIn: 2, written: 2 });
    const rows = (await Promise.all(outputs.map(async (k) => readWithHyparquet(await store.getBytes(k))))).flat();
    expect(rows.map((r) => BigInt(r['price_cents'] as bigint)).sort()).toEqual([9007199254740993n, 9223372036854775807n]);
  });

  it('rejects, never rounds, a bigint beyond 2^53 in a record with a declared key given twice', async () => {
    const twice = priced(uuidFor(3, 'big'), '9007199254740993').replace('"event_type":"order_click"', '"event_type":"item_view","event_type":"order_click"');
    const { counts, errors } = await compactObject(Buffer.from(`${twice}\n`));
    expect(counts).toMatchObject({ recordsIn: 1, written: 0, rejected: 1 });
    expect(errors.map((e) => [e.code, e.record])).toEqual([['schema:int64_precision', twice]]);
  });
});

import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { frameRecords, isGzip, type Span } from '../src/compaction/read/framing.js';
import { KeyTable } from '../src/compaction/read/witness.js';
import { Random } from '../src/synth/random.js';

const enc = (s: string): Buffer => Buffer.from(s, 'utf8');
const frame = (b: Buffer, keys?: KeyTable): Span[] => [...frameRecords(b, keys)];
/** Framing without and with a key table (the strict event scanner staging uses). */
const SCANNERS: Array<[string, KeyTable | undefined]> = [
  ['generic scanner', undefined],
  ['event scanner', new KeyTable(['event_id', 'event_time', 'viewport', 'attributes', 'item_name', 'id', 'n', 's'])],
];
/** Kind and text of every span. */
const texts = (b: Buffer): Array<[string, string]> => frame(b).map((s) => [s.kind, b.subarray(s.start, s.end).toString('utf8')]);

const WS = new Set([0x20, 0x09, 0x0a, 0x0d]);

/** Spans are ordered, disjoint, non-empty, and every byte outside them is JSON whitespace. */
function expectCoverage(b: Buffer, spans: Span[]): void {
  let at = 0;
  for (const s of spans) {
    expect(s.start).toBeGreaterThanOrEqual(at);
    expect(s.end).toBeGreaterThan(s.start);
    for (let i = at; i < s.start; i++) expect(WS.has(b[i]!), `byte ${i} (0x${b[i]!.toString(16)}) is in no span`).toBe(true);
    // A span neither starts nor ends with whitespace: whitespace between records belongs to none.
    expect(WS.has(b[s.start]!)).toBe(false);
    expect(WS.has(b[s.end - 1]!)).toBe(false);
    at = s.end;
  }
  for (let i = at; i < b.length; i++) expect(WS.has(b[i]!), `byte ${i} (0x${b[i]!.toString(16)}) is in no span`).toBe(true);
}

describe('frameRecords', () => {
  it('frames newline-delimited JSON, with CRLF and blank lines', () => {
    const b = enc('{"a":1}\n{"b":2}\r\n\n{"c":[1,2]}\n');
    expect(texts(b)).toEqual([
      ['object', '{"a":1}'],
      ['object', '{"b":2}'],
      ['object', '{"c":[1,2]}'],
    ]);
    expect(frame(b).every((s) => !s.hasLineBreak)).toBe(true);
  });

  it('frames records concatenated with no delimiter (Firehose default)', () => {
    const b = enc('{"a":1}{"b":{"c":2}}{"d":"}"}');
    expect(texts(b)).toEqual([
      ['object', '{"a":1}'],
      ['object', '{"b":{"c":2}}'],
      ['object', '{"d":"}"}'],
    ]);
  });

  it('frames a batched JSON array as one array span', () => {
    const b = enc('[{"a":1},{"a":2}]{"b":3}[]');
    expect(texts(b)).toEqual([
      ['array', '[{"a":1},{"a":2}]'],
      ['object', '{"b":3}'],
      ['array', '[]'],
    ]);
  });

  it('frames pretty-printed records and flags their line breaks', () => {
    const pretty = JSON.stringify({ a: 1, b: { c: [1, 2] }, d: 'x' }, null, 2);
    const b = enc(`${pretty}\n{"e":5}\n${JSON.stringify([{ f: 1 }], null, 1)}`);
    const spans = frame(b);
    expect(spans.map((s) => [s.kind, s.hasLineBreak])).toEqual([
      ['object', true],
      ['object', false],
      ['array', true],
    ]);
    expect(JSON.parse(b.subarray(spans[0]!.start, spans[0]!.end).toString())).toEqual({ a: 1, b: { c: [1, 2] }, d: 'x' });
  });

  it('is not fooled by braces, brackets and escaped quotes inside strings', () => {
    const records = [{ a: 'a}{b' }, { x: 'x\\"}' }, { q: '"{[' }, { k: 'tab\there ] }' }, { '}{': '\\' }];
    const body = records.map((r) => JSON.stringify(r)).join('');
    const got = texts(enc(body));
    expect(got.map(([k]) => k)).toEqual(records.map(() => 'object'));
    expect(got.map(([, t]) => JSON.parse(t))).toEqual(records);
  });

  it('reports byte offsets, not character offsets, around multi-byte UTF-8', () => {
    const first = JSON.stringify({ item_name: 'Tiramisù 焼き 🍕', n: 'Bánh' });
    const b = enc(`${first}{"b":"é"}`);
    const spans = frame(b);
    expect(spans).toHaveLength(2);
    expect(spans[0]!.end).toBe(Buffer.byteLength(first));
    expect(b.subarray(spans[1]!.start, spans[1]!.end).toString()).toBe('{"b":"é"}');
  });

  it('keeps garbage between records as one garbage span with a reason, and frames the records around it', () => {
    const b = enc('{"a":1}not json at all{"b":2}\n12345\n"str"\n{"c":3}');
    const got = frame(b);
    expect(got.map((s) => s.kind)).toEqual(['object', 'garbage', 'object', 'garbage', 'object']);
    expect(b.subarray(got[1]!.start, got[1]!.end).toString()).toBe('not json at all');
    expect(b.subarray(got[3]!.start, got[3]!.end).toString()).toBe('12345\n"str"');
    expect(got[1]!.reason).toMatch(/outside any JSON record/);
  });

  it.each(SCANNERS)('frames the good records after a truncated one (%s)', (_label, keys) => {
    const full = JSON.stringify({ event_id: 'e1', viewport: { width: 390, height: 844 }, attributes: { t: '5' }, item_name: 'x"y' });
    const good = ['{"event_id":"e2"}', '{"event_id":"e3","v":{"w":1}}', '[{"event_id":"e4"}]'];
    // Cut at every position: whatever the cut, the following good records still frame unchanged.
    for (let cut = 1; cut < full.length; cut++) {
      for (const sep of ['', '\n']) {
        const truncated = full.slice(0, cut);
        const b = enc(`${truncated}${sep}${good.join(sep)}${sep}`);
        const spans = frame(b, keys);
        expectCoverage(b, spans);
        const framed = spans.filter((s) => s.kind !== 'garbage').map((s) => b.subarray(s.start, s.end).toString());
        expect(framed.slice(-good.length), `cut at ${cut} sep ${JSON.stringify(sep)}`).toEqual(good);
        expect(spans[0]!.kind).toBe('garbage');
        expect(spans[0]!.start).toBe(0);
      }
    }
  });

  it('reports a record left unterminated at the end of the object as garbage', () => {
    const b = enc('{"a":1}\n{"b":[1,"x"');
    const spans = frame(b);
    expect(spans.map((s) => s.kind)).toEqual(['object', 'garbage']);
    expect(b.subarray(spans[1]!.start, spans[1]!.end).toString()).toBe('{"b":[1,"x"');
    // Resynchronising at the next brace: a complete object nested in the cut record is framed on its own.
    const nested = enc('{"a":1}\n{"b":{"c":2}');
    expect(texts(nested)).toEqual([
      ['object', '{"a":1}'],
      ['garbage', '{"b":'],
      ['object', '{"c":2}'],
    ]);
    expect(spans[1]!.reason).toMatch(/not closed|unterminated/);
    const open = enc('{"a":"never closed');
    expect(frame(open)).toEqual([expect.objectContaining({ kind: 'garbage', start: 0, end: open.length })]);
  });

  it('rejects mismatched brackets', () => {
    const b = enc('{"a":[1,2}]{"b":1}');
    expect(texts(b)).toEqual([
      ['garbage', '{"a":[1,2}]'],
      ['object', '{"b":1}'],
    ]);
  });

  it('yields nothing for empty or whitespace-only objects', () => {
    expect(frame(enc(''))).toEqual([]);
    expect(frame(enc(' \n\r\n\t '))).toEqual([]);
  });

  it.each(SCANNERS)('puts every non-whitespace byte in exactly one span (random mixtures, %s)', (_label, keys) => {
    const rng = new Random(20240501);
    const pieces = [
      () => JSON.stringify({ id: rng.uuid(), n: rng.int(0, 1e6), s: rng.pick(['a}{b', 'x\\"}', 'é', '焼き', '🍕', '']) }),
      () => JSON.stringify([{ id: rng.uuid() }, { id: rng.uuid(), v: [1, { w: 2 }] }]),
      () => JSON.stringify({ p: { q: 'r' } }, null, rng.int(1, 3)),
      () => JSON.stringify({ id: rng.uuid(), t: 'truncated' }).slice(0, rng.int(1, 30)),
      () => rng.pick(['garbage', '12', 'null', '"s"', ']', '}', '{', '[', '\u0000\u0001', 'ÿþ']),
    ];
    const seps = ['', '\n', '\r\n', ' ', '\n\n'];
    for (let round = 0; round < 300; round++) {
      const parts = Array.from({ length: rng.int(1, 12) }, () => rng.pick(pieces)());
      const b = enc(parts.map((p) => p + rng.pick(seps)).join(''));
      expectCoverage(b, frame(b, keys));
    }
  });

  it.each(SCANNERS)('frames exactly the records of any concatenation of valid JSON records (%s)', (_label, keys) => {
    const rng = new Random(7);
    for (let round = 0; round < 200; round++) {
      const records = Array.from({ length: rng.int(1, 8) }, () =>
        rng.chance(0.3)
          ? JSON.stringify([{ a: rng.int(0, 9) }, { b: 'x}' }], null, rng.chance(0.5) ? 2 : undefined)
          : JSON.stringify({ id: rng.uuid(), s: rng.pick(['{', '}', '[', ']', '\\', '"', 'ü']), n: [rng.next()] }, null, rng.chance(0.2) ? 1 : undefined),
      );
      const sep = rng.pick(['', '\n', ' \n']);
      const b = enc(records.join(sep));
      const spans = frame(b, keys);
      expect(spans.map((s) => b.subarray(s.start, s.end).toString())).toEqual(records);
      expect(spans.map((s) => s.kind)).toEqual(records.map((r) => (r.startsWith('[') ? 'array' : 'object')));
      expect(spans.map((s) => s.hasLineBreak)).toEqual(records.map((r) => r.includes('\n')));
    }
  });
});

describe('isGzip', () => {
  it('recognises GZIP by its magic bytes, whatever the content', () => {
    expect(isGzip(gzipSync(Buffer.from('{"a":1}')))).toBe(true);
    expect(isGzip(gzipSync(Buffer.alloc(0)))).toBe(true);
    expect(isGzip(Buffer.from('{"a":1}'))).toBe(false);
    expect(isGzip(Buffer.from([0x1f]))).toBe(false);
    expect(isGzip(Buffer.from([0x8b, 0x1f]))).toBe(false);
    expect(isGzip(Buffer.alloc(0))).toBe(false);
  });
});

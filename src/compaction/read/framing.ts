/**
 * Splits one Firehose object's bytes into records without parsing them: newline-delimited JSON,
 * records concatenated with no delimiter (Firehose's default), and producer batches (a JSON
 * array of events) all come out as spans. Bytes that cannot be framed come out as `garbage`
 * spans, so every byte of the object lands in exactly one span or in whitespace between spans.
 *
 * The scanner only follows strings and brackets and checks what may follow a closing quote or
 * bracket; full JSON validation happens later (DuckDB, with Ajv as the reference).
 */

import { CLOSE_BRACE, CLOSE_BRACKET, COLON, COMMA, LF, OPEN_BRACE, OPEN_BRACKET, QUOTE, skipWs, WHITESPACE } from './json-bytes.js';
import { KeyTable, newWitness, scanEvent, stringEnd, type EventWitness, type ScanResult } from './witness.js';

export type SpanKind = 'object' | 'array' | 'garbage';

export interface Span {
  kind: SpanKind;
  /** With a key table: what the event object held (reused between spans: read it before the next). */
  witness?: EventWitness;
  /** With a key table: one witness per event of a batched array. */
  witnesses?: EventWitness[];
  /** A batch holding something other than event objects, or a record with a duplicated key: for the slow path. */
  exotic?: boolean;
  start: number;
  end: number;
  /** The span holds a raw line break (allowed as whitespace in JSON, but it breaks NDJSON staging). */
  hasLineBreak: boolean;
  /** Why a garbage span could not be framed. */
  reason?: string;
}


/** Bytes that may follow a value inside a container: `,` `}` `]` (and `:` after a key). */
const AFTER_VALUE = new Uint8Array(256);
for (const c of [COMMA, CLOSE_BRACE, CLOSE_BRACKET, COLON]) AFTER_VALUE[c] = 1;
/** Bytes allowed outside strings inside a container: structure, numbers, true/false/null. */
const BARE = new Uint8Array(256);
for (const ch of ' \t\r\n,:0123456789+-.eEtrufalsn') BARE[ch.charCodeAt(0)] = 1;


/** Scans one JSON object or array starting at `start` (which holds `{` or `[`). */
export function scanValue(b: Uint8Array, start: number, n: number = b.length): ScanResult {
  const stack: number[] = [];
  let hasLineBreak = false;
  let i = start;
  while (i < n) {
    const c = b[i]!;
    if (c === QUOTE) {
      const state = { lf: false, escaped: false };
      const end = stringEnd(b, i, n, state);
      hasLineBreak ||= state.lf;
      if (end < 0) return { ok: false, at: n, hasLineBreak, reason: 'unterminated string at end of object' };
      i = end;
      const k = skipWs(b, i, n);
      if (k < n && AFTER_VALUE[b[k]!] !== 1) return { ok: false, at: k, hasLineBreak, reason: `unexpected byte 0x${b[k]!.toString(16)} after a string` };
      if (k > i) hasLineBreak ||= b.subarray(i, k).includes(LF);
      i = k;
      continue;
    }
    if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      stack.push(c === OPEN_BRACE ? CLOSE_BRACE : CLOSE_BRACKET);
      i++;
      continue;
    }
    if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
      if (stack.pop() !== c) return { ok: false, at: i, hasLineBreak, reason: 'mismatched closing bracket' };
      i++;
      if (stack.length === 0) return { ok: true, at: i, hasLineBreak };
      const k = skipWs(b, i, n);
      if (k < n && AFTER_VALUE[b[k]!] !== 1) return { ok: false, at: k, hasLineBreak, reason: `unexpected byte 0x${b[k]!.toString(16)} after a closing bracket` };
      if (k > i) hasLineBreak ||= b.subarray(i, k).includes(LF);
      i = k;
      continue;
    }
    if (BARE[c] !== 1) return { ok: false, at: i, hasLineBreak, reason: `unexpected byte 0x${c.toString(16)}` };
    if (c === LF) hasLineBreak = true;
    i++;
  }
  return { ok: false, at: n, hasLineBreak, reason: 'record not closed at end of object' };
}

/** Frames a batched array of event objects, with a witness per event. */
function scanBatch(b: Uint8Array, start: number, n: number, keys: KeyTable): ScanResult & { witnesses: EventWitness[]; exotic: boolean } {
  const witnesses: EventWitness[] = [];
  let i = skipWs(b, start + 1, n);
  if (i < n && b[i] === CLOSE_BRACKET) return { ok: true, at: i + 1, hasLineBreak: false, witnesses, exotic: false };
  let hasLineBreak = false;
  for (;;) {
    if (i >= n || b[i] !== OPEN_BRACE) {
      // Not a batch of events: frame it generically and let the slow path look at it.
      return { ...scanValue(b, start, n), witnesses: [], exotic: true };
    }
    const w = newWitness(keys);
    const r = scanEvent(b, i, n, keys, w);
    if (!r.ok) return { ok: false, at: r.at, hasLineBreak, reason: r.reason ?? 'not a JSON record', witnesses, exotic: false };
    hasLineBreak ||= r.hasLineBreak;
    witnesses.push(w);
    const k = skipWs(b, r.at, n);
    if (k > r.at) hasLineBreak ||= b.subarray(r.at, k).includes(LF);
    if (k < n && b[k] === COMMA) {
      i = skipWs(b, k + 1, n);
      if (i > k + 1) hasLineBreak ||= b.subarray(k + 1, i).includes(LF);
      continue;
    }
    if (k < n && b[k] === CLOSE_BRACKET) return { ok: true, at: k + 1, hasLineBreak, witnesses, exotic: false };
    return { ok: false, at: k, hasLineBreak, reason: 'expected "," or "]" in a batch', witnesses, exotic: false };
  }
}

/**
 * All spans of an object's bytes, in order. Garbage runs up to the next `{` that starts a
 * record which frames cleanly; adjacent garbage is merged into one span. With a key table,
 * event records are scanned strictly and carry their type witness.
 */
export function* frameRecords(b: Uint8Array, keys?: KeyTable): Generator<Span> {
  const n = b.length;
  let i = 0;
  let garbage: Span | undefined;
  const witness = keys ? newWitness(keys) : undefined;
  const flushGarbage = function* (): Generator<Span> {
    if (garbage) {
      // Trailing whitespace belongs to no record.
      let end = garbage.end;
      while (end > garbage.start && WHITESPACE[b[end - 1]!] === 1) end--;
      garbage.end = end;
      yield garbage;
      garbage = undefined;
    }
  };
  const addGarbage = (start: number, end: number, reason: string): void => {
    if (garbage) {
      garbage.end = end;
    } else {
      garbage = { kind: 'garbage', start, end, hasLineBreak: false, reason };
    }
  };
  while (true) {
    i = skipWs(b, i, n);
    if (i >= n) break;
    const c = b[i]!;
    if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      let span: Span | undefined;
      let failure: { at: number; reason?: string } | undefined;
      if (keys && witness && c === OPEN_BRACE) {
        const r = scanEvent(b, i, n, keys, witness);
        if (r.ok) span = { kind: 'object', start: i, end: r.at, hasLineBreak: r.hasLineBreak, witness, exotic: witness.duplicateKey };
        else failure = r;
      } else if (keys && c === OPEN_BRACKET) {
        const r = scanBatch(b, i, n, keys);
        if (r.ok) span = { kind: 'array', start: i, end: r.at, hasLineBreak: r.hasLineBreak, witnesses: r.witnesses, exotic: r.exotic || r.witnesses.some((w) => w.duplicateKey) };
        else failure = r;
      } else {
        const r = scanValue(b, i, n);
        if (r.ok) span = { kind: c === OPEN_BRACE ? 'object' : 'array', start: i, end: r.at, hasLineBreak: r.hasLineBreak };
        else failure = r;
      }
      if (span) {
        yield* flushGarbage();
        yield span;
        i = span.end;
        continue;
      }
      const next = b.indexOf(OPEN_BRACE, i + 1);
      const resume = next < 0 ? n : next;
      addGarbage(i, resume, failure?.reason ?? 'not a JSON record');
      i = resume;
      continue;
    }
    const next = b.indexOf(OPEN_BRACE, i + 1);
    const resume = next < 0 ? n : next;
    addGarbage(i, resume, 'bytes outside any JSON record');
    i = resume;
  }
  yield* flushGarbage();
}

/** GZIP's magic bytes: objects are recognised by content, not by name. */
export function isGzip(b: Uint8Array): boolean {
  return b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b;
}

/**
 * The type witness: while framing an event record, note the JSON kind of each declared top-level
 * property and the names of undeclared ones. It lets DuckDB read records with its fast typed JSON
 * reader and still check types the way JSON Schema does: the typed reader alone coerces ("5" ->
 * 5, 5.5 -> 6, true -> 1, 7 -> '7'), the witness says what the JSON really held.
 *
 * A witness is one ASCII character per declared property, in column order:
 *   '-' absent, 'z' null, 's' string, 'i' number written without fraction or exponent,
 *   'f' any other number, 'b' true/false, 'o' object, 'a' array.
 */

import { BACKSLASH, CLOSE_BRACE, CLOSE_BRACKET, COLON, COMMA, LF, OPEN_BRACE, OPEN_BRACKET, QUOTE, skipWs, WHITESPACE } from './json-bytes.js';

const KIND_ABSENT = 0x2d; // '-'
const K_NULL = 0x7a; // 'z'
const K_STRING = 0x73; // 's'
const K_INTEGER = 0x69; // 'i'
const K_FLOAT = 0x66; // 'f'
const K_BOOL = 0x62; // 'b'
const K_OBJECT = 0x6f; // 'o'
const K_ARRAY = 0x61; // 'a'



const NUMBER_BYTE = new Uint8Array(256);
for (const ch of '0123456789+-.eE') NUMBER_BYTE[ch.charCodeAt(0)] = 1;

/** Bytes that stop the scan of a string's content: the closing quote, an escape, a raw line break. */
const STRING_STOP = new Uint8Array(256);
STRING_STOP[QUOTE] = 1;
STRING_STOP[BACKSLASH] = 1;
STRING_STOP[LF] = 1;

/** Declared property names, looked up by their UTF-8 bytes without making strings. */
export class KeyTable {
  /** Candidates by byte length (an array: a Map lookup per property cost more than the compare). */
  private readonly byLength: Array<Array<{ bytes: Uint8Array; index: number }> | undefined> = [];
  private readonly byName = new Map<string, number>();
  /** Each name's UTF-8 bytes. */
  readonly bytes: readonly Uint8Array[];
  /**
   * The declared property seen last after declared property `i - 1` (slot 0: the first one), or
   * -1. Producers write their properties in one order, so checking that name first finds most
   * keys with one compare instead of scanning the key and then looking it up.
   */
  readonly follows: Int32Array;
  /** 1 for the names JSON writes unescaped (no quote, backslash or control byte): only those are guessed. */
  readonly predictable: Uint8Array;

  constructor(readonly names: readonly string[]) {
    this.bytes = names.map((name) => Buffer.from(name, 'utf8'));
    this.follows = new Int32Array(names.length + 1).fill(-1);
    this.predictable = Uint8Array.from(this.bytes, (bytes) => (bytes.every((c) => c >= 0x20 && c !== QUOTE && c !== BACKSLASH) ? 1 : 0));
    names.forEach((name, index) => {
      const bytes = this.bytes[index]!;
      (this.byLength[bytes.length] ??= []).push({ bytes, index });
      this.byName.set(name, index);
    });
  }

  /** Index of the key written raw (no escapes) in b[start, end), or -1. */
  lookup(b: Uint8Array, start: number, end: number): number {
    const candidates = this.byLength[end - start];
    if (!candidates) return -1;
    outer: for (const c of candidates) {
      for (let k = 0; k < c.bytes.length; k++) if (c.bytes[k] !== b[start + k]) continue outer;
      return c.index;
    }
    return -1;
  }

  /**
   * End of the key string at `i` (index after its closing quote) when it is exactly the name
   * `index` written raw, else -1. Only for names that need no escaping in JSON.
   */
  matchAt(b: Uint8Array, i: number, n: number, index: number): number {
    const bytes = this.bytes[index]!;
    const length = bytes.length;
    const close = i + 1 + length;
    if (close >= n || b[close] !== QUOTE) return -1;
    for (let k = 0; k < length; k++) if (b[i + 1 + k] !== bytes[k]) return -1;
    return close + 1;
  }

  indexOf(name: string): number {
    return this.byName.get(name) ?? -1;
  }
}

/** What one event object held, filled by `scanEvent`. */
export interface EventWitness {
  /** One kind byte per declared property. */
  kinds: Uint8Array;
  /** Undeclared top-level property names, in order of appearance; null when none. */
  unknown: string[] | null;
  /** A declared property appears twice: readers disagree on which wins, so the slow path decides. */
  duplicateKey: boolean;
}

export function newWitness(keys: KeyTable): EventWitness {
  return { kinds: Buffer.alloc(keys.names.length), unknown: null, duplicateKey: false };
}

export function witnessText(w: EventWitness): string {
  return Buffer.from(w.kinds.buffer, w.kinds.byteOffset, w.kinds.length).toString('latin1');
}

/** Scratch state of one scan (JS runs one scan at a time: reused to spare an allocation per record). */
const SCAN_STATE = { lf: false, escaped: false };

/** A failed scan (a module function: a closure per scanned record cost an allocation each). */
function fail(at: number, reason: string): ScanResult {
  return { ok: false, at, hasLineBreak: SCAN_STATE.lf, reason };
}

/** Where a scan ended: past the value when ok, at the offending byte otherwise. */
export interface ScanResult {
  ok: boolean;
  /** End (exclusive) when ok; the offending position otherwise. */
  at: number;
  hasLineBreak: boolean;
  reason?: string;
}

/** End of the string whose opening quote is at `i` (index after the closing quote), or -1. */
export function stringEnd(b: Uint8Array, i: number, n: number, state: { lf: boolean; escaped: boolean }): number {
  let j = i + 1;
  for (;;) {
    // One table load per content byte: the framer's hottest loop.
    while (j < n && STRING_STOP[b[j]!] === 0) j++;
    if (j >= n) return -1;
    const d = b[j]!;
    if (d === QUOTE) return j + 1;
    if (d === BACKSLASH) {
      state.escaped = true;
      j += 2;
      continue;
    }
    state.lf = true;
    j++;
  }
}

function literalAt(b: Uint8Array, i: number, n: number, text: string): boolean {
  if (i + text.length > n) return false;
  for (let k = 0; k < text.length; k++) if (b[i + k] !== text.charCodeAt(k)) return false;
  return true;
}

/**
 * End of a nested object or array starting at `i`: follows strings and brackets, and refuses the
 * extensions DuckDB's JSON reader accepts but JSON does not (trailing commas, NaN, Infinity), so
 * nothing JSON.parse would refuse reaches the curated data. Other content is checked later by
 * DuckDB's JSON parser.
 */
function nestedEnd(b: Uint8Array, i: number, n: number, state: { lf: boolean; escaped: boolean }): number {
  let depth = 0;
  let afterComma = false;
  while (i < n) {
    const c = b[i]!;
    if (c === QUOTE) {
      const e = stringEnd(b, i, n, state);
      if (e < 0) return -1;
      i = e;
      afterComma = false;
      continue;
    }
    if (c === OPEN_BRACE || c === OPEN_BRACKET) depth++;
    else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
      if (afterComma) return -1;
      depth--;
      if (depth === 0) return i + 1;
    } else if (c === LF) state.lf = true;
    else if (c === 0x4e /* N */ || c === 0x49 /* I */) return -1;
    if (WHITESPACE[c] !== 1) afterComma = c === COMMA;
    i++;
  }
  return -1;
}

/**
 * Frames one event object starting at `start` (a `{`) and fills `w`. Checks the object's own
 * structure strictly (keys, colons, commas) so a truncated record is caught right where it breaks.
 */
export function scanEvent(b: Uint8Array, start: number, n: number, keys: KeyTable, w: EventWitness): ScanResult {
  const kinds = w.kinds;
  // A byte loop: Buffer#fill is a native call, which costs more for ~20 bytes.
  for (let k = 0; k < kinds.length; k++) kinds[k] = KIND_ABSENT;
  w.unknown = null;
  w.duplicateKey = false;
  const state = SCAN_STATE;
  state.lf = false;
  state.escaped = false;
  let i = skipWs(b, start + 1, n);
  if (i < n && b[i] === CLOSE_BRACE) return { ok: true, at: i + 1, hasLineBreak: state.lf };
  // The declared property before this one (-1: none yet), to guess the next key (KeyTable.follows).
  let previous = -1;
  for (;;) {
    if (i >= n) return fail(n, 'record not closed at end of object');
    if (b[i] !== QUOTE) return fail(i, 'expected a property name');
    state.escaped = false;
    const keyStart = i;
    let index = keys.follows[previous + 1]!;
    let keyEnd = index >= 0 ? keys.matchAt(b, i, n, index) : -1;
    let name: string | undefined;
    if (keyEnd < 0) {
      keyEnd = stringEnd(b, i, n, state);
      if (keyEnd < 0) return fail(n, 'unterminated property name');
      if (state.escaped) {
        try {
          name = JSON.parse(Buffer.from(b.buffer, b.byteOffset + i, keyEnd - i).toString('utf8')) as string;
        } catch {
          return fail(i, 'invalid property name');
        }
        index = keys.indexOf(name);
      } else {
        index = keys.lookup(b, i + 1, keyEnd - 1);
      }
    }
    i = skipWs(b, keyEnd, n);
    if (i >= n || b[i] !== COLON) return fail(i, 'expected ":" after a property name');
    i = skipWs(b, i + 1, n);
    if (i >= n) return fail(n, 'record not closed at end of object');
    const c = b[i]!;
    let kind: number;
    if (c === QUOTE) {
      const e = stringEnd(b, i, n, state);
      if (e < 0) return fail(n, 'unterminated string at end of object');
      i = e;
      kind = K_STRING;
    } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      const e = nestedEnd(b, i, n, state);
      if (e < 0) return fail(i, 'a nested value is not closed, or holds what JSON does not allow (trailing comma, NaN, Infinity)');
      i = e;
      kind = c === OPEN_BRACE ? K_OBJECT : K_ARRAY;
    } else if (c === 0x74 /* t */ || c === 0x66 /* f */) {
      if (!literalAt(b, i, n, c === 0x74 ? 'true' : 'false')) return fail(i, 'invalid literal');
      i += c === 0x74 ? 4 : 5;
      kind = K_BOOL;
    } else if (c === 0x6e /* n */) {
      if (!literalAt(b, i, n, 'null')) return fail(i, 'invalid literal');
      i += 4;
      kind = K_NULL;
    } else if (c === 0x2d || (c >= 0x30 && c <= 0x39)) {
      kind = K_INTEGER;
      while (i < n && NUMBER_BYTE[b[i]!] === 1) {
        const d = b[i]!;
        if (d === 0x2e || d === 0x65 || d === 0x45) kind = K_FLOAT;
        i++;
      }
    } else {
      return fail(i, `unexpected byte 0x${c.toString(16)} where a value should start`);
    }
    if (index >= 0) {
      if (kinds[index] !== KIND_ABSENT) w.duplicateKey = true;
      kinds[index] = kind;
      if (keys.predictable[index] === 1) keys.follows[previous + 1] = index;
      previous = index;
    } else {
      (w.unknown ??= []).push(name ?? Buffer.from(b.buffer, b.byteOffset + keyStart + 1, keyEnd - keyStart - 2).toString('utf8'));
    }
    i = skipWs(b, i, n);
    if (i >= n) return fail(n, 'record not closed at end of object');
    if (b[i] === COMMA) {
      i = skipWs(b, i + 1, n);
      continue;
    }
    if (b[i] === CLOSE_BRACE) return { ok: true, at: i + 1, hasLineBreak: state.lf };
    return fail(i, 'expected "," or "}" after a value');
  }
}


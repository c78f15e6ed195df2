/** The JSON bytes the framer and the witness scanner look at, and the whitespace skip they share. */

export const QUOTE = 0x22;
export const BACKSLASH = 0x5c;
export const COLON = 0x3a;
export const COMMA = 0x2c;
export const OPEN_BRACE = 0x7b;
export const CLOSE_BRACE = 0x7d;
export const OPEN_BRACKET = 0x5b;
export const CLOSE_BRACKET = 0x5d;
export const LF = 0x0a;

/** JSON's whitespace bytes. */
export const WHITESPACE = new Uint8Array(256);
for (const c of [0x20, 0x09, LF, 0x0d]) WHITESPACE[c] = 1;

/** The first non-whitespace position at or after `i` (or `n`). */
export function skipWs(b: Uint8Array, i: number, n: number): number {
  while (i < n && WHITESPACE[b[i]!] === 1) i++;
  return i;
}

/**
 * A record spread over lines, on one line: the whitespace between tokens removed and every other
 * byte kept, so numbers keep their exact digits (JSON.parse would round integers beyond 2^53) and
 * duplicate keys stay for the validator to see. Undefined when a string holds a raw line break,
 * which JSON does not allow.
 */
export function minifyJson(b: Uint8Array): Buffer | undefined {
  const out = Buffer.allocUnsafe(b.length);
  let n = 0;
  let inString = false;
  for (let i = 0; i < b.length; i++) {
    const c = b[i]!;
    if (!inString) {
      if (WHITESPACE[c] === 1) continue;
      out[n++] = c;
      if (c === QUOTE) inString = true;
      continue;
    }
    if (c === LF || c === 0x0d) return undefined;
    out[n++] = c;
    if (c === QUOTE) inString = false;
    else if (c === BACKSLASH && i + 1 < b.length) {
      const next = b[++i]!;
      if (next === LF || next === 0x0d) return undefined;
      out[n++] = next;
    }
  }
  return Buffer.from(out.subarray(0, n));
}

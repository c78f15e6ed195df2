import { isUtf8 } from 'node:buffer';
import { gunzipSync } from 'node:zlib';
import { frameRecords, isGzip, type Span } from './framing.js';
import { minifyJson } from './json-bytes.js';
import { KeyTable, witnessText, type EventWitness } from './witness.js';
import { BufferPool } from './buffer-pool.js';

/**
 * The staged-line format DuckDB reads, one Firehose record a line, wrapped with where it came from:
 *
 *   {"s":<input index>,"o":<offset in object>,"p":<offset of the record in its block>,"n":<record length>,
 *    "w":"<type witness>","u":[<unknown property names>],"r":<record>}
 *
 * For a batched JSON array: `"wa":[<witness per event>],"ua":[[...],...],"a":<record>`. `"x":1`
 * sends a line to the JS slow path (a batch of non-events, a duplicated property). Each input
 * object becomes one block of lines; `p` counts from the block's start, so blocks can be built
 * in parallel and a record's bytes are read back at blockStart[s] + p. The record bytes are
 * copied unchanged.
 */

/** JSON text with non-ASCII escaped: the wrapper stays ASCII, so it can be written byte for byte. */
function asciiJson(value: unknown): string {
  return JSON.stringify(value).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** The wrapper fields that carry a span's type witness. */
export function witnessFields(span: Span): string {
  if (span.exotic) return ',"x":1';
  if (span.kind === 'object' && span.witness) {
    const w = span.witness;
    return `,"w":"${witnessText(w)}"${w.unknown ? `,"u":${asciiJson(w.unknown)}` : ''}`;
  }
  if (span.kind === 'array' && span.witnesses) {
    const ws = span.witnesses;
    const unknown = ws.some((w) => w.unknown) ? `,"ua":${asciiJson(ws.map((w) => w.unknown ?? []))}` : '';
    return `,"wa":[${ws.map((w) => `"${witnessText(w)}"`).join(',')}]${unknown}`;
  }
  return ',"x":1';
}

/**
 * The staged line of one record given as its exact bytes (framed with the same scanner as
 * staging, so it carries the same witness). For tests and tools that stage records directly.
 */
export function stagedRecordLine(ref: { s: number; o: number; p: number }, record: Buffer, keys: KeyTable): string {
  const span = frameRecords(record, keys).next().value as Span | undefined;
  if (!span || span.kind === 'garbage') throw new Error(`not a JSON record: ${record.toString('utf8').slice(0, 80)}`);
  const text = record.subarray(span.start, span.end).toString('utf8');
  return `{"s":${ref.s},"o":${ref.o},"p":${ref.p},"n":${span.end - span.start}${witnessFields(span)},"${span.kind === 'array' ? 'a' : 'r'}":${text}}`;
}

/**
 * A staged line for one event the JS slow path rescued (`e`: its index in a batch), pointing at
 * the original record's bytes (p, n) for error reports.
 */
export function rescueLine(ref: { s: number; o: number; p: number; n: number }, e: number | null, event: unknown, keys: KeyTable): string {
  const text = JSON.stringify(event);
  const span = frameRecords(Buffer.from(text), keys).next().value as Span;
  return `{"s":${ref.s},"o":${ref.o},"p":${ref.p},"n":${ref.n},"e":${e === null ? 'null' : e}${witnessFields(span)},"r":${text}}`;
}

function digitCount(value: number): number {
  let digits = 1;
  for (let v = value; v >= 10; v = Math.floor(v / 10)) digits++;
  return digits;
}

const ascii = (text: string): Buffer => Buffer.from(text, 'latin1');
const S_OPEN = ascii('{"s":');
const S_O = ascii(',"o":');
const S_P = ascii(',"p":');
const S_N = ascii(',"n":');
const S_W = ascii(',"w":"');
const S_QUOTE = ascii('"');
const S_R = ascii(',"r":');
const S_A = ascii(',"a":');
const S_END = ascii('}\n');
const S_WA = ascii(',"wa":[');
const S_NEXT_WITNESS = ascii('","');
const S_LAST_WITNESS = ascii('"]');
const S_EMPTY_LIST = ascii(']');

/** Bytes of `,"wa":["<kinds>",...]` for a batch without undeclared properties (see witnessFields). */
function batchWitnessLength(witnesses: readonly EventWitness[]): number {
  if (!witnesses.length) return S_WA.length + S_EMPTY_LIST.length;
  return S_WA.length + witnesses.reduce((sum, w) => sum + w.kinds.length + 3, 0) - 3 + 1 + S_LAST_WITNESS.length;
}

/** Room for a staged line's wrapper besides the record (numbers, witnesses); unknown names are bounded by twice the record. */
const MAX_WRAPPER_BYTES = 64 * 1024;

/** Block buffers a stager keeps for reuse: one being filled while the last one is written. */
export const POOLED_BLOCKS = 2;

/**
 * One growing buffer per block: staging copies every record, so per-record allocations would
 * dominate (and feed the garbage collector). Its memory is its own (not Node's shared pool), so
 * a worker can transfer it without copying, and staging hands it back to be filled again.
 */
const UNPOOLED = new BufferPool(0);

class BlockWriter {
  buf: Buffer;
  used = 0;

  constructor(capacity: number, pool?: BufferPool) {
    this.buf = (pool ?? UNPOOLED).take(capacity);
  }

  reserve(n: number): void {
    if (this.used + n <= this.buf.length) return;
    const grown = Buffer.allocUnsafeSlow(Math.max(this.buf.length * 2, this.used + n));
    this.buf.copy(grown, 0, 0, this.used);
    this.buf = grown;
  }

  writeLatin1(text: string): void {
    this.used += this.buf.write(text, this.used, 'latin1');
  }

  /** A non-negative integer as ASCII digits, without making a string. */
  writeUint(value: number): void {
    const digits = digitCount(value);
    let v = value;
    for (let k = this.used + digits - 1; k >= this.used; k--) {
      this.buf[k] = 0x30 + (v % 10);
      v = Math.floor(v / 10);
    }
    this.used += digits;
  }

  /** A few bytes (the wrapper's punctuation, a witness), copied one by one: a typed-array view per write costs more. */
  writeShort(b: Uint8Array): void {
    const buf = this.buf;
    let u = this.used;
    for (let k = 0; k < b.length; k++) buf[u++] = b[k]!;
    this.used = u;
  }

  writeBytes(b: Buffer, start: number, end: number): void {
    this.used += b.copy(this.buf, this.used, start, end);
  }
}

/** A record kept out of DuckDB at staging: `offset` in the (decompressed) object. */
export interface StagingReject {
  offset: number;
  bytes: Buffer;
  code: 'gzip' | 'framing' | 'json' | 'encoding';
  reasons: string[];
}

/** One input object staged: its lines, and what staging itself rejected or normalised. */
export interface StagedBlock {
  /** The staged lines (exactly `used` bytes of the buffer's memory). */
  block: Buffer;
  lines: number;
  bytesDecompressed: number;
  rejected: StagingReject[];
  /** Original bytes of records staged in a normalised form (pretty-printed JSON), by offset. */
  originals: Array<[number, Buffer]>;
}

/**
 * Un-GZIPs (when the bytes say so), frames and witnesses one object into its block of staged
 * lines. Nothing returned refers to `stored`'s memory, so the caller may reuse it at once.
 */
export function stageObject(stored: Buffer, s: number, keys: KeyTable, pool?: BufferPool): StagedBlock {
  let body: Buffer;
  try {
    body = isGzip(stored) ? gunzipSync(stored) : stored;
  } catch (err) {
    const reasons = [`object looks like GZIP but does not decompress: ${(err as Error).message}`];
    // A copy: staging reuses the memory `stored` was read into.
    return { block: Buffer.allocUnsafeSlow(0), lines: 0, bytesDecompressed: 0, rejected: [{ offset: 0, bytes: Buffer.from(stored), code: 'gzip', reasons }], originals: [] };
  }
  const writer = new BlockWriter(Math.ceil(body.length * 1.25) + MAX_WRAPPER_BYTES, pool);
  const rejected: StagingReject[] = [];
  const originals: Array<[number, Buffer]> = [];
  let lines = 0;
  const stage = (o: number, span: Span, record: Buffer, start: number, end: number): void => {
    const n = end - start;
    // The common cases (an event, or a batch of events, with only declared properties) write their witness bytes directly.
    const plain = span.kind === 'object' && !span.exotic && span.witness !== undefined && span.witness.unknown === null;
    const plainBatch = span.kind === 'array' && !span.exotic && span.witnesses !== undefined && span.witnesses.every((w) => w.unknown === null);
    const fields = plain || plainBatch ? undefined : witnessFields(span);
    const witnessLength = plain ? S_W.length + span.witness!.kinds.length + 1 : plainBatch ? batchWitnessLength(span.witnesses!) : fields!.length;
    writer.reserve(MAX_WRAPPER_BYTES + 2 * n + witnessLength);
    writer.writeShort(S_OPEN);
    writer.writeUint(s);
    writer.writeShort(S_O);
    writer.writeUint(o);
    writer.writeShort(S_P);
    // p is the record's own offset, which depends on how many digits p itself takes.
    const rest = S_N.length + digitCount(n) + witnessLength + S_R.length;
    const base = writer.used + rest;
    let p = base + digitCount(base);
    if (digitCount(p) !== digitCount(base)) p = base + digitCount(p);
    writer.writeUint(p);
    writer.writeShort(S_N);
    writer.writeUint(n);
    if (plain) {
      writer.writeShort(S_W);
      writer.writeShort(span.witness!.kinds);
      writer.writeShort(S_QUOTE);
    } else if (plainBatch) {
      writer.writeShort(S_WA);
      span.witnesses!.forEach((w, k) => {
        writer.writeShort(k === 0 ? S_QUOTE : S_NEXT_WITNESS);
        writer.writeShort(w.kinds);
      });
      writer.writeShort(span.witnesses!.length ? S_LAST_WITNESS : S_EMPTY_LIST);
    } else {
      writer.writeLatin1(fields!);
    }
    const tag = span.kind === 'array' ? S_A : S_R;
    writer.writeShort(tag);
    writer.writeBytes(record, start, end);
    writer.writeShort(S_END);
    lines++;
  };
  // One native pass over the whole object; records are checked one by one only when it fails.
  const allUtf8 = isUtf8(body);
  for (const span of frameRecords(body, keys)) {
    if (span.kind === 'garbage') {
      rejected.push({ offset: span.start, bytes: Buffer.from(body.subarray(span.start, span.end)), code: 'framing', reasons: [`not a JSON record: ${span.reason ?? 'unframeable bytes'}`] });
      continue;
    }
    // JSON text is UTF-8 (RFC 8259). Other bytes would fail DuckDB's reading of the stage, or be
    // replaced (U+FFFD) by a decoder: reject the record with its bytes instead (found by fuzzing).
    if (!allUtf8 && !isUtf8(body.subarray(span.start, span.end))) {
      rejected.push({ offset: span.start, bytes: Buffer.from(body.subarray(span.start, span.end)), code: 'encoding', reasons: ['the record is not valid UTF-8, which JSON text must be (RFC 8259)'] });
      continue;
    }
    if (!span.hasLineBreak) {
      stage(span.start, span, body, span.start, span.end);
      continue;
    }
    // A record spread over lines would break NDJSON staging: stage it minified, keep the original.
    const bytes = body.subarray(span.start, span.end);
    const minified = minifyJson(bytes);
    if (!minified) {
      rejected.push({ offset: span.start, bytes: Buffer.from(bytes), code: 'json', reasons: ['invalid JSON: a string holds a raw line break'] });
      continue;
    }
    originals.push([span.start, Buffer.from(bytes)]);
    stage(span.start, frameRecords(minified, keys).next().value as Span, minified, 0, minified.length);
  }
  return { block: writer.buf.subarray(0, writer.used), lines, bytesDecompressed: body.length, rejected, originals };
}

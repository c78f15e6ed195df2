import { createWriteStream, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import { gunzip } from 'node:zlib';
import { promisify } from 'node:util';
import type { ObjectInfo, ObjectStore } from '../storage/types.js';
import { frameRecords, isGzip, type Span } from './framing.js';
import { KeyTable, witnessText } from './witness.js';
import type { RejectedRecord } from './rejects.js';

const gunzipAsync = promisify(gunzip);

/**
 * Staging turns a unit's raw objects into one NDJSON file DuckDB reads, one Firehose record a
 * line, wrapped with where it came from:
 *
 *   {"s":<input index>,"o":<offset in object>,"p":<offset of the record in this file>,"n":<record length>,
 *    "w":"<type witness>","u":[<unknown property names>],"r":<record>}
 *
 * For a batched JSON array: `"wa":[<witness per event>],"ua":[[...],...],"a":<record>`. `"x":1`
 * sends a line to the JS slow path (a batch of non-events, a duplicated property). The record
 * bytes are copied unchanged, so a rejected record's exact bytes can be read back from the
 * staging file at p..p+n.
 */
export interface StagedUnit {
  file: string;
  lines: number;
  /** Bytes of the raw objects as stored. */
  bytesIn: number;
  /** Bytes after GZIP decompression. */
  bytesDecompressed: number;
  /** Records rejected before DuckDB: spans that could not be framed, multi-line records that are not JSON. */
  rejected: RejectedRecord[];
  /** Original bytes of records restaged in a normalised form (pretty-printed JSON), by `s:o`. */
  originals: Map<string, Buffer>;
}

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

/** Room for a staged line's wrapper besides the record (numbers, witnesses); unknown names are bounded by twice the record. */
const MAX_WRAPPER_BYTES = 64 * 1024;

/** Write buffer size: large sequential writes keep staging near disk speed. */
const WRITE_CHUNK = 8 << 20;

/**
 * Appends bytes into large preallocated chunks and writes each full chunk once: staging copies
 * every record, so per-record allocations would dominate (and feed the garbage collector).
 */
class ChunkedWriter {
  private chunk = Buffer.allocUnsafe(WRITE_CHUNK);
  private used = 0;
  position = 0;

  constructor(private readonly out: WriteStream) {}

  private async spill(): Promise<void> {
    if (this.used === 0) return;
    const full = this.chunk.subarray(0, this.used);
    this.chunk = Buffer.allocUnsafe(WRITE_CHUNK);
    this.used = 0;
    if (!this.out.write(full)) await once(this.out, 'drain');
  }

  hasRoom(n: number): boolean {
    return this.used + n <= this.chunk.length;
  }

  /** Makes room for `n` more bytes (a record larger than a chunk gets a chunk of its own). */
  async reserve(n: number): Promise<void> {
    if (this.hasRoom(n)) return;
    await this.spill();
    if (n > this.chunk.length) this.chunk = Buffer.allocUnsafe(n);
  }

  writeLatin1(text: string): void {
    this.used += this.chunk.write(text, this.used, 'latin1');
    this.position += text.length;
  }

  /** A non-negative integer as ASCII digits, without making a string. */
  writeUint(value: number): void {
    const digits = digitCount(value);
    let v = value;
    for (let k = this.used + digits - 1; k >= this.used; k--) {
      this.chunk[k] = 0x30 + (v % 10);
      v = Math.floor(v / 10);
    }
    this.used += digits;
    this.position += digits;
  }

  writeBytes(b: Buffer, start: number, end: number): void {
    b.copy(this.chunk, this.used, start, end);
    this.used += end - start;
    this.position += end - start;
  }

  async flush(): Promise<void> {
    await this.spill();
  }
}

async function readObject(store: ObjectStore, key: string): Promise<Buffer> {
  const stream = await store.getStream(key);
  const parts: Buffer[] = [];
  for await (const chunk of stream as AsyncIterable<Buffer>) parts.push(chunk);
  return Buffer.concat(parts);
}

/**
 * Frames every input object into the staging file, one object in memory at a time (Firehose
 * objects are at most 128 MiB), so memory does not grow with the number of objects in the hour.
 */
export async function stageUnit(store: ObjectStore, inputs: readonly ObjectInfo[], file: string, keys: KeyTable, onObject?: (done: number) => void): Promise<StagedUnit> {
  const out = createWriteStream(file);
  const writer = new ChunkedWriter(out);
  const rejected: RejectedRecord[] = [];
  const originals = new Map<string, Buffer>();
  let lines = 0;
  let bytesIn = 0;
  let bytesDecompressed = 0;
  /** One staged line; the wrapper is ASCII, the record bytes are copied unchanged. */
  const stage = (s: number, o: number, span: Span, record: Buffer, start: number, end: number): void => {
    const n = end - start;
    // The common case (an event with only declared properties) writes its witness bytes directly.
    const plain = span.kind === 'object' && !span.exotic && span.witness !== undefined && span.witness.unknown === null;
    const fields = plain ? undefined : witnessFields(span);
    const witnessLength = plain ? S_W.length + span.witness!.kinds.length + 1 : fields!.length;
    writer.writeBytes(S_OPEN, 0, S_OPEN.length);
    writer.writeUint(s);
    writer.writeBytes(S_O, 0, S_O.length);
    writer.writeUint(o);
    writer.writeBytes(S_P, 0, S_P.length);
    // p is the record's own offset, which depends on how many digits p itself takes.
    const rest = S_N.length + digitCount(n) + witnessLength + S_R.length;
    const base = writer.position + rest;
    let p = base + digitCount(base);
    if (digitCount(p) !== digitCount(base)) p = base + digitCount(p);
    writer.writeUint(p);
    writer.writeBytes(S_N, 0, S_N.length);
    writer.writeUint(n);
    if (plain) {
      writer.writeBytes(S_W, 0, S_W.length);
      const kinds = span.witness!.kinds;
      writer.writeBytes(Buffer.from(kinds.buffer, kinds.byteOffset, kinds.length), 0, kinds.length);
      writer.writeBytes(S_QUOTE, 0, 1);
    } else {
      writer.writeLatin1(fields!);
    }
    const tag = span.kind === 'array' ? S_A : S_R;
    writer.writeBytes(tag, 0, tag.length);
    writer.writeBytes(record, start, end);
    writer.writeBytes(S_END, 0, S_END.length);
    lines++;
  };
  /** Reads (and un-GZIPs) an object; staging prefetches the next one while framing this one. */
  const load = async (key: string): Promise<{ stored: Buffer; body?: Buffer; error?: Error }> => {
    const stored = await readObject(store, key);
    try {
      return { stored, body: isGzip(stored) ? await gunzipAsync(stored) : stored };
    } catch (err) {
      return { stored, error: err as Error };
    }
  };
  let next = inputs[0] ? load(inputs[0].key) : undefined;
  try {
    for (const [s, input] of inputs.entries()) {
      const { stored, body, error } = await next!;
      const following = inputs[s + 1];
      next = following ? load(following.key) : undefined;
      bytesIn += stored.length;
      if (!body) {
        rejected.push({ sourceKey: input.key, offset: 0, bytes: stored, code: 'gzip', reasons: [`object looks like GZIP but does not decompress: ${error?.message ?? 'unknown error'}`] });
        continue;
      }
      bytesDecompressed += body.length;
      for (const span of frameRecords(body, keys)) {
        if (span.kind === 'garbage') {
          rejected.push({ sourceKey: input.key, offset: span.start, bytes: Buffer.from(body.subarray(span.start, span.end)), code: 'framing', reasons: [`not a JSON record: ${span.reason ?? 'unframeable bytes'}`] });
          continue;
        }
        if (span.hasLineBreak) {
          // A record spread over lines would break NDJSON staging: stage it minified, keep the original.
          const bytes = body.subarray(span.start, span.end);
          let parsed: unknown;
          try {
            parsed = JSON.parse(bytes.toString('utf8'));
          } catch (err) {
            rejected.push({ sourceKey: input.key, offset: span.start, bytes: Buffer.from(bytes), code: 'json', reasons: [`invalid JSON: ${(err as Error).message}`] });
            continue;
          }
          originals.set(`${s}:${span.start}`, Buffer.from(bytes));
          const minified = Buffer.from(JSON.stringify(parsed));
          const again = frameRecords(minified, keys).next().value as Span;
          await writer.reserve(MAX_WRAPPER_BYTES + 2 * minified.length);
          stage(s, span.start, again, minified, 0, minified.length);
        } else {
          // Room is made only when a chunk fills up: no await (and no promise) per record.
          if (!writer.hasRoom(MAX_WRAPPER_BYTES + 2 * (span.end - span.start))) await writer.reserve(MAX_WRAPPER_BYTES + 2 * (span.end - span.start));
          stage(s, span.start, span, body, span.start, span.end);
        }
      }
      onObject?.(s + 1);
    }
    await writer.flush();
  } catch (err) {
    // Do not leave the prefetch of the next object unobserved.
    await next?.catch(() => undefined);
    throw err;
  } finally {
    out.end();
    await once(out, 'close');
  }
  return { file, lines, bytesIn, bytesDecompressed, rejected, originals };
}

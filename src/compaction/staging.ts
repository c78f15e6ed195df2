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

  /** Makes room for `n` more bytes (a record larger than a chunk gets a chunk of its own). */
  async reserve(n: number): Promise<void> {
    if (this.used + n <= this.chunk.length) return;
    await this.spill();
    if (n > this.chunk.length) this.chunk = Buffer.allocUnsafe(n);
  }

  writeLatin1(text: string): void {
    this.used += this.chunk.write(text, this.used, 'latin1');
    this.position += text.length;
  }

  writeBytes(b: Uint8Array, start: number, end: number): void {
    this.chunk.set(b.subarray(start, end), this.used);
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
  const stage = async (s: number, o: number, span: Span, record: Uint8Array, start: number, end: number): Promise<void> => {
    const prefix = `{"s":${s},"o":${o},"p":`;
    // p is the record's own offset, which depends on how many digits p itself takes.
    const rest = `,"n":${end - start}${witnessFields(span)},"${span.kind === 'array' ? 'a' : 'r'}":`;
    await writer.reserve(prefix.length + rest.length + 20 + (end - start) + 2);
    const base = writer.position + prefix.length + rest.length;
    let p = base + String(base).length;
    if (String(p).length !== String(base).length) p = base + String(p).length;
    writer.writeLatin1(`${prefix}${p}${rest}`);
    writer.writeBytes(record, start, end);
    writer.writeLatin1('}\n');
    lines++;
  };
  try {
    for (const [s, input] of inputs.entries()) {
      const stored = await readObject(store, input.key);
      bytesIn += stored.length;
      let body: Buffer;
      try {
        body = isGzip(stored) ? await gunzipAsync(stored) : stored;
      } catch (err) {
        rejected.push({ sourceKey: input.key, offset: 0, bytes: stored, code: 'gzip', reasons: [`object looks like GZIP but does not decompress: ${(err as Error).message}`] });
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
          await stage(s, span.start, again, minified, 0, minified.length);
        } else {
          await stage(s, span.start, span, body, span.start, span.end);
        }
      }
      onObject?.(s + 1);
    }
    await writer.flush();
  } finally {
    out.end();
    await once(out, 'close');
  }
  return { file, lines, bytesIn, bytesDecompressed, rejected, originals };
}

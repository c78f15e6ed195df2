import { createWriteStream, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import { gunzip } from 'node:zlib';
import { promisify } from 'node:util';
import type { ObjectInfo, ObjectStore } from '../storage/types.js';
import { frameRecords, isGzip } from './framing.js';
import type { RejectedRecord } from './rejects.js';

const gunzipAsync = promisify(gunzip);

/**
 * Staging turns a unit's raw objects into one NDJSON file DuckDB reads, one Firehose record a
 * line, wrapped with where it came from:
 *
 *   {"s":<input index>,"o":<offset in object>,"p":<offset of the record in this file>,"n":<record length>,"r":<record>}
 *
 * (`"a":` instead of `"r":` for a batched JSON array). The record bytes are copied unchanged, so
 * a rejected record's exact bytes can be read back from the staging file at p..p+n.
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

/** Write buffer size: large sequential writes keep staging near disk speed. */
const WRITE_CHUNK = 4 << 20;

class ChunkedWriter {
  private chunks: Buffer[] = [];
  private pending = 0;
  position = 0;

  constructor(private readonly out: WriteStream) {}

  write(b: Buffer): void {
    this.chunks.push(b);
    this.pending += b.length;
    this.position += b.length;
  }

  async maybeFlush(): Promise<void> {
    if (this.pending >= WRITE_CHUNK) await this.flush();
  }

  async flush(): Promise<void> {
    if (this.pending === 0) return;
    const data = Buffer.concat(this.chunks, this.pending);
    this.chunks = [];
    this.pending = 0;
    if (!this.out.write(data)) await once(this.out, 'drain');
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
export async function stageUnit(store: ObjectStore, inputs: readonly ObjectInfo[], file: string, onObject?: (done: number) => void): Promise<StagedUnit> {
  const out = createWriteStream(file);
  const writer = new ChunkedWriter(out);
  const rejected: RejectedRecord[] = [];
  const originals = new Map<string, Buffer>();
  let lines = 0;
  let bytesIn = 0;
  let bytesDecompressed = 0;
  const stage = (s: number, o: number, kind: 'r' | 'a', record: Buffer): void => {
    const prefix = `{"s":${s},"o":${o},"p":`;
    // p is the record's own offset, which depends on how many digits p itself takes.
    const rest = `,"n":${record.length},"${kind}":`;
    const base = writer.position + prefix.length + rest.length;
    let p = base + String(base).length;
    if (String(p).length !== String(base).length) p = base + String(p).length;
    writer.write(Buffer.from(`${prefix}${p}${rest}`));
    writer.write(record);
    writer.write(Buffer.from('}\n'));
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
      for (const span of frameRecords(body)) {
        const bytes = body.subarray(span.start, span.end);
        if (span.kind === 'garbage') {
          rejected.push({ sourceKey: input.key, offset: span.start, bytes: Buffer.from(bytes), code: 'framing', reasons: [`not a JSON record: ${span.reason ?? 'unframeable bytes'}`] });
          continue;
        }
        if (span.hasLineBreak) {
          // A record spread over lines would break NDJSON staging: stage it minified, keep the original.
          let parsed: unknown;
          try {
            parsed = JSON.parse(bytes.toString('utf8'));
          } catch (err) {
            rejected.push({ sourceKey: input.key, offset: span.start, bytes: Buffer.from(bytes), code: 'json', reasons: [`invalid JSON: ${(err as Error).message}`] });
            continue;
          }
          originals.set(`${s}:${span.start}`, Buffer.from(bytes));
          stage(s, span.start, span.kind === 'array' ? 'a' : 'r', Buffer.from(JSON.stringify(parsed)));
        } else {
          stage(s, span.start, span.kind === 'array' ? 'a' : 'r', bytes);
        }
        await writer.maybeFlush();
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

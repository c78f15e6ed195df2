import { createWriteStream, type WriteStream } from 'node:fs';
import { finished } from 'node:stream/promises';
import { once } from 'node:events';
import { createGzip } from 'node:zlib';
import { compareUtf8 } from '../../storage/keys.js';

/** A record that did not make it into curated data, with where it came from and every reason. */
export interface RejectedRecord {
  /** Raw object key relative to the lake root. */
  sourceKey: string;
  /** Byte offset of the record in the (decompressed) object. */
  offset: number;
  /** Index of the event inside a batched JSON array record (0-based), when it was one. */
  element?: number;
  /** The record's bytes. */
  bytes: Buffer;
  /** Stable code of the first reason, for counts in the manifest. */
  code: string;
  reasons: string[];
}

/** One line of the errors object (`errors/<table>/YYYY/MM/DD/HH.ndjson.gz`). */
export function rejectLine(r: RejectedRecord): string {
  const text = r.bytes.toString('utf8');
  // Bytes that are not valid UTF-8 would change in a JSON string: keep them as base64 instead.
  const exact = Buffer.from(text, 'utf8').equals(r.bytes);
  const line: Record<string, unknown> = { source_key: r.sourceKey, offset: r.offset };
  if (r.element !== undefined) line['element'] = r.element;
  line['code'] = r.code;
  line['errors'] = r.reasons;
  if (exact) line['record'] = text;
  else line['record_base64'] = r.bytes.toString('base64');
  return JSON.stringify(line);
}

/** Deterministic order of rejects: by source object (in listing order: UTF-8 bytes), offset, element. */
export function compareRejects(a: RejectedRecord, b: RejectedRecord): number {
  if (a.sourceKey !== b.sourceKey) return compareUtf8(a.sourceKey, b.sourceKey);
  if (a.offset !== b.offset) return a.offset - b.offset;
  return (a.element ?? -1) - (b.element ?? -1);
}

/**
 * Writes the errors object's lines straight into a GZIP file as rejects are found, so memory
 * does not grow with the number of rejected records. Callers add rejects in `compareRejects`
 * order (the order is part of the byte-identical rerun guarantee); the writer checks it.
 */
export class RejectWriter {
  private readonly gzip = createGzip();
  private readonly out: WriteStream;
  private last: RejectedRecord | undefined;
  private pending: string[] = [];
  private pendingBytes = 0;
  count = 0;
  readonly codes: Record<string, number> = {};

  /** The first write failure (a full disk): the next call throws it. */
  private failure: Error | undefined;

  constructor(readonly file: string) {
    this.out = createWriteStream(file);
    this.gzip.pipe(this.out);
    // Unlistened, a stream's 'error' would end the process; pipe() does not pass it on. Either
    // failing ends both, so a write waiting for GZIP to drain rejects instead of waiting forever.
    const fail = (err: Error): void => {
      this.failure ??= err;
      if (!this.gzip.destroyed) this.gzip.destroy(err);
      if (!this.out.destroyed) this.out.destroy();
    };
    this.out.on('error', fail);
    this.gzip.on('error', fail);
  }

  async add(r: RejectedRecord): Promise<void> {
    if (this.last && compareRejects(this.last, r) > 0) {
      throw new Error(`rejects out of order: ${r.sourceKey}@${r.offset} after ${this.last.sourceKey}@${this.last.offset}`);
    }
    this.last = { ...r, bytes: Buffer.alloc(0) };
    this.count++;
    this.codes[r.code] = (this.codes[r.code] ?? 0) + 1;
    const line = `${rejectLine(r)}\n`;
    this.pending.push(line);
    this.pendingBytes += line.length;
    // Lines go to GZIP in 1 MB batches: a write per line would wait on the zlib thread each time.
    if (this.pendingBytes >= 1 << 20) await this.flush();
  }

  private async flush(): Promise<void> {
    if (this.failure) throw this.failure;
    if (this.pending.length === 0) return;
    const text = this.pending.join('');
    this.pending = [];
    this.pendingBytes = 0;
    if (!this.gzip.write(text)) await once(this.gzip, 'drain');
  }

  async close(): Promise<void> {
    await this.flush();
    this.gzip.end();
    await finished(this.out).catch(() => undefined);
    if (this.failure) throw this.failure;
  }

  /**
   * Closes the file unfinished when the unit failed: its descriptor must not outlive the unit
   * (a warm Lambda would keep the deleted file's space in /tmp). Nothing to do after close().
   */
  async discard(): Promise<void> {
    if (this.out.closed) return;
    this.gzip.unpipe(this.out);
    this.gzip.destroy();
    const closed = once(this.out, 'close');
    this.out.destroy();
    await closed;
  }
}

/**
 * Merges reject sources that are each already in `compareRejects` order into the writer: a
 * lazy source (DuckDB's rejects, explained one at a time) and small in-memory lists.
 */
export async function mergeRejects(writer: RejectWriter, lists: RejectedRecord[][], lazy: AsyncIterable<RejectedRecord>): Promise<void> {
  const queue = lists.flat().sort(compareRejects);
  let q = 0;
  for await (const r of lazy) {
    while (q < queue.length && compareRejects(queue[q]!, r) <= 0) await writer.add(queue[q++]!);
    await writer.add(r);
  }
  while (q < queue.length) await writer.add(queue[q++]!);
}

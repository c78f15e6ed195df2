/**
 * The durable spool of `clicklake serve`: every accepted request body is appended to a segment
 * file and fsync'd before the server answers 200, so a server killed at any moment loses nothing
 * it acknowledged. Appends that arrive while a sync runs are written and synced together by the
 * next one (group commit): one fsync covers many requests, which is what lets durable ingestion
 * keep up with a server that writes nothing.
 *
 * Frame: u32 payload length, u32 CRC-32 of (arrival time + payload), f64 arrival ms, payload.
 * A frame cut short or with a bad CRC at the end of a segment is a write that was never synced,
 * so never acknowledged: reading stops there.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, unlink, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { crc32 } from 'node:zlib';

const HEADER_BYTES = 16;
export const SEGMENT_SUFFIX = '.spool';

/** One record read back from a segment. */
export interface SpooledRecord {
  arrivalMs: number;
  payload: Buffer;
}

export interface SegmentContents {
  records: SpooledRecord[];
  /** Bytes after the last whole frame (an append that was never synced); 0 normally. */
  tornBytes: number;
}

function frame(payload: Buffer, arrivalMs: number): Buffer {
  const out = Buffer.allocUnsafe(HEADER_BYTES + payload.length);
  out.writeUInt32LE(payload.length, 0);
  out.writeDoubleLE(arrivalMs, 8);
  payload.copy(out, HEADER_BYTES);
  out.writeUInt32LE(crc32(out.subarray(8)), 4);
  return out;
}

/** The records of a segment file, in append order. */
export function parseSegment(bytes: Buffer): SegmentContents {
  const records: SpooledRecord[] = [];
  let at = 0;
  while (at + HEADER_BYTES <= bytes.length) {
    const length = bytes.readUInt32LE(at);
    const end = at + HEADER_BYTES + length;
    if (end > bytes.length || crc32(bytes.subarray(at + 8, end)) !== bytes.readUInt32LE(at + 4)) break;
    records.push({ arrivalMs: bytes.readDoubleLE(at + 8), payload: bytes.subarray(at + HEADER_BYTES, end) });
    at = end;
  }
  return { records, tornBytes: bytes.length - at };
}

export async function readSegment(file: string): Promise<SegmentContents> {
  return parseSegment(await readFile(file));
}

/** A closed segment, ready for delivery. */
export interface ClosedSegment {
  file: string;
  /** Stable for the segment: delivery names its objects from it, so a redelivery overwrites. */
  id: string;
}

/** Makes a directory entry (a new or renamed file) survive a crash. */
async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

interface Pending {
  bytes: Buffer;
  arrivalMs: number;
  resolve: () => void;
  reject: (err: unknown) => void;
}

/**
 * Appends records to the open segment; `rotate()` closes it (a new one opens on the next write).
 * Segment files sort by creation: `<ms, 15 digits>-<uuid>.spool`.
 */
export class Spool {
  private handle: FileHandle | undefined;
  private file: string | undefined;
  private queue: Pending[] = [];
  private draining: Promise<void> | undefined;
  private round: Promise<void> | undefined;
  /** Bytes written to the open segment. */
  bytes = 0;
  /** Arrival time of the open segment's first record. */
  firstArrivalMs: number | undefined;

  constructor(readonly dir: string) {}

  /** Segments left by an earlier process (closed or not), oldest first. */
  async leftovers(): Promise<ClosedSegment[]> {
    await mkdir(this.dir, { recursive: true });
    const names = (await readdir(this.dir)).filter((n) => n.endsWith(SEGMENT_SUFFIX)).sort();
    return names.map((n) => ({ file: path.join(this.dir, n), id: n.slice(0, -SEGMENT_SUFFIX.length) }));
  }

  /** Resolves once `payload` is on disk (fsync'd). */
  append(payload: Buffer, arrivalMs: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ bytes: frame(payload, arrivalMs), arrivalMs, resolve, reject });
      this.kick();
    });
  }

  /** Starts the drain loop unless it runs; one queued while a loop was ending starts the next. */
  private kick(): void {
    if (this.draining) return;
    this.draining = this.drain().finally(() => {
      this.draining = undefined;
      if (this.queue.length > 0) this.kick();
    });
  }

  /** Rounds of one writev + fdatasync over everything queued, until the queue is empty. */
  private async drain(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        const batch = this.queue;
        this.queue = [];
        this.round = this.writeRound(batch);
        await this.round;
      }
    } finally {
      this.round = undefined;
    }
  }

  private async writeRound(batch: Pending[]): Promise<void> {
    try {
      if (!this.handle) await this.openSegment();
      const handle = this.handle!;
      let total = 0;
      for (const p of batch) {
        total += p.bytes.length;
        this.firstArrivalMs ??= p.arrivalMs;
      }
      this.bytes += total;
      const { bytesWritten } = await handle.writev(batch.map((p) => p.bytes));
      if (bytesWritten !== total) throw new Error(`short write to the spool: ${bytesWritten} of ${total} bytes`);
      await handle.datasync();
      for (const p of batch) p.resolve();
    } catch (err) {
      for (const p of batch) p.reject(err);
    }
  }

  private async openSegment(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    const file = path.join(this.dir, `${String(Date.now()).padStart(15, '0')}-${randomUUID()}${SEGMENT_SUFFIX}`);
    this.handle = await open(file, 'a');
    this.file = file;
    await syncDirectory(this.dir);
  }

  /**
   * Closes the open segment once the write in flight on it is synced; later writes go to a new
   * segment. undefined when no segment was open.
   */
  async rotate(): Promise<ClosedSegment | undefined> {
    const inFlight = this.round;
    const { handle, file } = this;
    this.handle = undefined;
    this.file = undefined;
    this.bytes = 0;
    this.firstArrivalMs = undefined;
    await inFlight;
    if (!handle || !file) return undefined;
    await handle.close();
    return { file, id: path.basename(file, SEGMENT_SUFFIX) };
  }

  /** Waits for every queued append to be synced (or to fail). */
  async settle(): Promise<void> {
    while (this.draining) await this.draining;
  }

  /** Removes a delivered segment. */
  async remove(segment: ClosedSegment): Promise<void> {
    await unlink(segment.file);
  }

  /** Keeps a delivered segment with a cut tail under another name, for a person to look at. */
  async setAside(segment: ClosedSegment): Promise<string> {
    const kept = `${segment.file}.torn`;
    await rename(segment.file, kept);
    await syncDirectory(this.dir);
    return kept;
  }
}

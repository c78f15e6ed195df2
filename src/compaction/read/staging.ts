import { createWriteStream, existsSync } from 'node:fs';
import { once } from 'node:events';
import { finished } from 'node:stream/promises';
import { Worker } from 'node:worker_threads';
import type { ObjectInfo, ObjectStore } from '../../storage/types.js';
import { BufferPool } from './buffer-pool.js';
import { releaseUnusedMemory } from './release-memory.js';
import { POOLED_BLOCKS, stageObject, type StagedBlock } from './stage-lines.js';
import type { StageMessage, StageReply } from './stage-worker.js';
import type { KeyTable } from './witness.js';
import type { RejectedRecord } from '../check/rejects.js';

/**
 * Staging turns a unit's raw objects into one NDJSON file DuckDB reads (the line format is in
 * stage-lines.ts): one block of lines per input object, in input order. Framing is a byte loop
 * in JavaScript: on the main thread, or on worker threads, one object each, while the main
 * thread reads the objects ahead and appends the finished blocks in order (defaultStagingWorkers
 * says when workers pay off).
 */
export interface StagedUnit {
  file: string;
  lines: number;
  /** Worker threads that framed the objects (0: the main thread did). */
  workers: number;
  /** Where each input's block starts in the staging file: a record is at blockStarts[s] + p. */
  blockStarts: number[];
  /** Bytes of the raw objects as stored. */
  bytesIn: number;
  /** Bytes after GZIP decompression. */
  bytesDecompressed: number;
  /** Records rejected before DuckDB: spans that could not be framed, multi-line records that are not JSON. */
  rejected: RejectedRecord[];
  /** Original bytes of records restaged in a normalised form (pretty-printed JSON), by `s:o`. */
  originals: Map<string, Buffer>;
}

/** Where a staged record's bytes are in the staging file. */
export function stagedPosition(staged: Pick<StagedUnit, 'blockStarts'>, s: number, p: number): number {
  return staged.blockStarts[s]! + p;
}

type Stager = {
  /** Stages object `s`; the memory `stored` was read into goes back to the read pool once framed. */
  stage(s: number, stored: Buffer): Promise<StagedBlock>;
  /** Hands block `s`'s memory back once its lines are written, to be filled again. */
  recycle(s: number, memory: ArrayBuffer): void;
  close(): Promise<void>;
};

/** The worker entry next to this module: compiled JS, the Lambda bundle's .mjs, or (tests, tsx) TypeScript. */
function workerSource(): { source: string | URL; eval: boolean } | undefined {
  for (const name of ['stage-worker.js', 'stage-worker.mjs']) {
    const url = new URL(`./${name}`, import.meta.url);
    if (existsSync(url)) return { source: url, eval: false };
  }
  const ts = new URL('./stage-worker.ts', import.meta.url);
  if (!existsSync(ts)) return undefined;
  return { source: `import('tsx/esm/api').then((m) => { m.register(); return import(${JSON.stringify(ts.href)}); })`, eval: true };
}

function inlineStager(keys: KeyTable, reads: BufferPool): Stager {
  const blocks = new BufferPool(POOLED_BLOCKS);
  return {
    stage: async (s, stored) => {
      const block = stageObject(stored, s, keys, blocks);
      reads.give(stored.buffer as ArrayBuffer);
      return block;
    },
    recycle: (_s, memory) => blocks.give(memory),
    close: async () => undefined,
  };
}

/** Fixed pool of staging workers; each request goes to the least busy one. */
function workerStager(count: number, keys: KeyTable, entry: { source: string | URL; eval: boolean }, reads: BufferPool): Stager {
  const owners = new Map<number, Worker>();
  const workers = Array.from({ length: count }, () => {
    const worker = new Worker(entry.source, { eval: entry.eval, workerData: { keyNames: keys.names } });
    const pending = new Map<number, { resolve: (b: StagedBlock) => void; reject: (e: Error) => void }>();
    const state: { failure?: Error } = {};
    const failAll = (err: Error): void => {
      state.failure ??= err;
      for (const p of pending.values()) p.reject(err);
      pending.clear();
    };
    worker.on('message', ({ s, result, read }: StageReply) => {
      owners.set(s, worker);
      reads.give(read);
      const wrap = (u: Uint8Array): Buffer => Buffer.from(u.buffer, u.byteOffset, u.byteLength);
      const block: StagedBlock = {
        ...result,
        block: wrap(result.block),
        rejected: result.rejected.map((r) => ({ ...r, bytes: wrap(r.bytes) })),
        originals: result.originals.map(([o, b]) => [o, wrap(b)]),
      };
      pending.get(s)?.resolve(block);
      pending.delete(s);
    });
    worker.on('error', failAll);
    worker.on('exit', (code) => failAll(new Error(`staging worker exited with code ${code}`)));
    return { worker, pending, state };
  });
  return {
    stage: (s, stored) => {
      const target = workers.reduce((a, b) => (b.pending.size < a.pending.size ? b : a));
      // A worker that died answers nothing more: fail at once instead of waiting forever.
      const dead = workers.find((w) => w.state.failure);
      if (dead) return Promise.reject(dead.state.failure!);
      return new Promise<StagedBlock>((resolve, reject) => {
        target.pending.set(s, { resolve, reject });
        // Read buffers own their memory (BufferPool), so it moves to the worker and back uncopied.
        const request: StageMessage = { s, stored };
        target.worker.postMessage(request, [stored.buffer as ArrayBuffer]);
      });
    },
    recycle: (s, memory) => {
      const owner = owners.get(s);
      owners.delete(s);
      const alive = workers.find((w) => w.worker === owner && !w.state.failure);
      if (alive && memory.byteLength > 0) alive.worker.postMessage({ recycle: memory } satisfies StageMessage, [memory]);
    },
    close: async () => {
      for (const w of workers) w.state.failure ??= new Error('staging workers closed');
      await Promise.all(workers.map(({ worker }) => worker.terminate()));
    },
  };
}

export interface StagingOptions {
  /** Worker threads that frame objects (see defaultStagingWorkers); 0 frames on the main thread. */
  workers: number;
  onObject?: (done: number) => void;
}

/**
 * Staging workers for a unit: none on up to 2 cores, else one per two cores (at most 4).
 * Measured on 2 cores (bench/RESULTS.md): with its buffers reused, the main thread stages the
 * benchmark hour as fast as two workers do, on half the CPU. Every block handed between threads
 * arrives as new external memory on the receiving side, whose garbage collector then runs full
 * collections (~2 CPU-seconds for the hour) that compete with the framing.
 */
export function defaultStagingWorkers(inputs: number, cores: number): number {
  return inputs < 2 || cores <= 2 ? 0 : Math.min(Math.floor(cores / 2), 4, inputs);
}

/**
 * Stages every input object into one file. Memory stays bounded: at most two objects per worker
 * are read ahead or waiting to be written, whatever the number of objects in the hour.
 */
export async function stageUnit(store: ObjectStore, inputs: readonly ObjectInfo[], file: string, keys: KeyTable, options: StagingOptions): Promise<StagedUnit> {
  const staged = await stageObjects(store, inputs, file, keys, options);
  // Collected once stageObjects has returned: while it is suspended, its frame still holds the
  // buffer pools and the last block (~200 MB), so a collection inside it freed none of them.
  await releaseUnusedMemory();
  return staged;
}

async function stageObjects(store: ObjectStore, inputs: readonly ObjectInfo[], file: string, keys: KeyTable, options: StagingOptions): Promise<StagedUnit> {
  const entry = options.workers > 0 ? workerSource() : undefined;
  const window = Math.max(2, 2 * options.workers);
  const reads = new BufferPool(window + 1);
  const stager = entry ? workerStager(options.workers, keys, entry, reads) : inlineStager(keys, reads);
  // Blocks are a few MB each: a high-water mark above that lets the next block be framed while this one is written.
  const out = createWriteStream(file, { highWaterMark: 16 << 20 });
  // A failed write (a full disk) fails staging; unlistened, the stream's 'error' would end the process.
  let writeError: Error | undefined;
  out.on('error', (err) => (writeError ??= err));
  const rejected: RejectedRecord[] = [];
  const originals = new Map<string, Buffer>();
  const blockStarts: number[] = [];
  let position = 0;
  let lines = 0;
  let bytesIn = 0;
  let bytesDecompressed = 0;
  const inFlight: Array<Promise<{ stored: number; block: StagedBlock }>> = [];
  const start = async (s: number): Promise<{ stored: number; block: StagedBlock }> => {
    const bytes = await store.readInto(inputs[s]!.key, reads.take(inputs[s]!.size));
    return { stored: bytes.length, block: await stager.stage(s, bytes) };
  };
  try {
    let next = 0;
    for (let s = 0; s < inputs.length; s++) {
      while (next < inputs.length && next - s < window) inFlight.push(start(next++));
      const { stored, block } = await inFlight.shift()!;
      const key = inputs[s]!.key;
      bytesIn += stored;
      bytesDecompressed += block.bytesDecompressed;
      for (const r of block.rejected) rejected.push({ sourceKey: key, ...r });
      for (const [o, bytes] of block.originals) originals.set(`${s}:${o}`, bytes);
      blockStarts.push(position);
      position += block.block.length;
      lines += block.lines;
      if (block.block.length) {
        // Checked before writing: a stream a failure has closed never drains again.
        if (writeError) throw writeError;
        const memory = block.block.buffer as ArrayBuffer;
        const written = out.write(block.block, (err) => {
          if (!err) stager.recycle(s, memory);
        });
        if (!written) await once(out, 'drain');
      }
      options.onObject?.(s + 1);
    }
  } catch (err) {
    // Do not leave reads or workers still running unobserved.
    await Promise.allSettled(inFlight);
    throw err;
  } finally {
    await stager.close();
    out.end();
    // finished() also settles for a stream an error has already closed, where 'close' never comes again.
    await finished(out).catch(() => undefined);
  }
  if (writeError) throw writeError;
  return { file, lines, workers: entry ? options.workers : 0, blockStarts, bytesIn, bytesDecompressed, rejected, originals };
}

/**
 * Worker thread entry for staging: frames the objects the main thread sends and sends back their
 * blocks of staged lines (transferred, not copied). See staging.ts.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { BufferPool } from './buffer-pool.js';
import { POOLED_BLOCKS, stageObject, type StagedBlock } from './stage-lines.js';
import { KeyTable } from './witness.js';

/**
 * Stage object `s` (its stored bytes, whose memory goes back to be read into again), or take
 * back a written block's memory for reuse.
 */
export type StageMessage = { s: number; stored: Uint8Array } | { recycle: ArrayBuffer };

/** A staged object's block, and the memory it was read into. */
export interface StageReply {
  s: number;
  result: StagedBlock;
  read: ArrayBuffer;
}

const keys = new KeyTable((workerData as { keyNames: string[] }).keyNames);
const port = parentPort!;
const blocks = new BufferPool(POOLED_BLOCKS);
port.on('message', (message: StageMessage) => {
  if ('recycle' in message) {
    blocks.give(message.recycle);
    return;
  }
  const { s, stored } = message;
  const result = stageObject(Buffer.from(stored.buffer, stored.byteOffset, stored.byteLength), s, keys, blocks);
  const reply: StageReply = { s, result, read: stored.buffer as ArrayBuffer };
  port.postMessage(reply, [result.block.buffer as ArrayBuffer, reply.read]);
});

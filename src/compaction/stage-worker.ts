/**
 * Worker thread entry for staging: frames the objects the main thread sends and sends back their
 * blocks of staged lines (transferred, not copied). See staging.ts.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { BufferPool } from './buffer-pool.js';
import { POOLED_BLOCKS, stageObject, type StagedBlock } from './stage-lines.js';
import { KeyTable } from './witness.js';

/**
 * Stage object `s` (its stored bytes; `pooled`: send their memory back to be read into again),
 * or take back a written block's memory for reuse.
 */
export type StageMessage = { s: number; stored: Uint8Array; pooled: boolean } | { recycle: ArrayBuffer };

/** A staged object's block, and the memory it was read into when that is to be reused. */
export interface StageReply {
  s: number;
  result: StagedBlock;
  read?: ArrayBuffer;
}

const keys = new KeyTable((workerData as { keyNames: string[] }).keyNames);
const port = parentPort!;
const blocks = new BufferPool(POOLED_BLOCKS);
port.on('message', (message: StageMessage) => {
  if ('recycle' in message) {
    blocks.give(message.recycle);
    return;
  }
  const { s, stored, pooled } = message;
  const result = stageObject(Buffer.from(stored.buffer, stored.byteOffset, stored.byteLength), s, keys, blocks);
  const read = pooled ? (stored.buffer as ArrayBuffer) : undefined;
  const reply: StageReply = read ? { s, result, read } : { s, result };
  port.postMessage(reply, read ? [result.block.buffer as ArrayBuffer, read] : [result.block.buffer as ArrayBuffer]);
});

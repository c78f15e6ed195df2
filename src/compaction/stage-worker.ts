/**
 * Worker thread entry for staging: frames the objects the main thread sends and sends back their
 * blocks of staged lines (transferred, not copied). See staging.ts.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { stageObject } from './stage-lines.js';
import { KeyTable } from './witness.js';

export interface StageRequest {
  s: number;
  stored: Uint8Array;
}

const keys = new KeyTable((workerData as { keyNames: string[] }).keyNames);
const port = parentPort!;
port.on('message', ({ s, stored }: StageRequest) => {
  const result = stageObject(Buffer.from(stored.buffer, stored.byteOffset, stored.byteLength), s, keys);
  port.postMessage({ s, result }, [result.block.buffer as ArrayBuffer]);
});

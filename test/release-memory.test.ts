import { describe, expect, it } from 'vitest';
import { releaseUnusedMemory } from '../src/compaction/read/release-memory.js';

describe('releaseUnusedMemory', () => {
  it('frees a large buffer nothing references any more, without waiting for V8 to decide', async () => {
    const size = 96 << 20;
    let buffer: Buffer | undefined = Buffer.allocUnsafeSlow(size).fill(1);
    // Promote it to the old generation, where only a full collection frees it.
    await releaseUnusedMemory();
    const held = process.memoryUsage().arrayBuffers;
    expect(held).toBeGreaterThanOrEqual(size);
    expect(buffer.length).toBe(size);
    buffer = undefined;
    await releaseUnusedMemory();
    // V8 frees array buffer memory on a background thread right after the collection. Other
    // code in this worker may allocate a few bytes meanwhile: the 96 MiB must go, give or take 1 MiB.
    const freed = size - (1 << 20);
    let after = process.memoryUsage().arrayBuffers;
    for (let i = 0; i < 50 && held - after < freed; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      after = process.memoryUsage().arrayBuffers;
    }
    expect(held - after).toBeGreaterThanOrEqual(freed);
    expect(buffer).toBeUndefined();
  });
});

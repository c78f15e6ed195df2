/**
 * Large buffers reused during staging: the raw objects read, and the blocks of staged lines.
 *
 * Measured on the benchmark hour (93 objects, 678 MB of JSON): a fresh buffer per object cost
 * ~1 CPU-second in page faults for the blocks and another ~1 in the main thread's garbage
 * collector, which ran a full collection every few objects for the external memory.
 *
 * Buffers are allocated above glibc's largest mmap threshold (32 MiB on 64-bit), so each is its
 * own mapping, returned to the system when freed: smaller ones come from malloc's heap, which
 * fragments under the worker threads' churn and stayed ~100 MB resident after staging. Pages
 * never written are never resident, so unused capacity costs nothing.
 */
export const MMAP_SIZED = 33 << 20;

export class BufferPool {
  private readonly free: ArrayBuffer[] = [];

  /** `keep`: how many returned buffers to hold on to (the largest). */
  constructor(private readonly keep: number) {}

  /** A buffer of at least `capacity` bytes: a returned one when one is big enough. */
  take(capacity: number): Buffer {
    const i = this.free.findIndex((b) => b.byteLength >= capacity);
    if (i >= 0) return Buffer.from(this.free.splice(i, 1)[0]!);
    return Buffer.allocUnsafeSlow(Math.max(MMAP_SIZED, capacity));
  }

  /** Takes memory back once nothing reads it any more. */
  give(memory: ArrayBuffer): void {
    if (memory.byteLength === 0) return;
    this.free.push(memory);
    this.free.sort((a, b) => b.byteLength - a.byteLength);
    this.free.length = Math.min(this.free.length, this.keep);
  }
}

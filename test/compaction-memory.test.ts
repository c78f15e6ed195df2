import { describe, expect, it } from 'vitest';
import { defaultMemoryLimit } from '../src/compaction/context.js';
import { memoryLimitForMemory, parseByteSize, writeThreadsFor } from '../src/compaction/write/memory.js';

describe('memory limit and sort threads', () => {
  it('reads DuckDB size strings', () => {
    expect(parseByteSize('256MB')).toBe(256e6);
    expect(parseByteSize(' 1.5 GiB ')).toBe(1.5 * 1024 ** 3);
    expect(parseByteSize('4gb')).toBe(4e9);
    expect(parseByteSize('1000')).toBe(1000);
    expect(parseByteSize('lots')).toBeUndefined();
    expect(parseByteSize('10 parsecs')).toBeUndefined();
  });

  it('gives the Parquet write one thread per 256 MiB of the limit, at least one, at most the threads there are', () => {
    expect(writeThreadsFor('256MB', 2)).toBe(1);
    expect(writeThreadsFor('256MiB', 8)).toBe(1);
    expect(writeThreadsFor('1GiB', 2)).toBe(2);
    expect(writeThreadsFor('1GiB', 8)).toBe(4);
    expect(writeThreadsFor('100MB', 4)).toBe(1);
    expect(writeThreadsFor('something DuckDB will refuse', 4)).toBe(4);
  });

  it('gives DuckDB 30% of the memory a unit runs in, the function\'s or the machine\'s (at most the largest function\'s), never under 256MB', () => {
    expect(memoryLimitForMemory(3538)).toBe('1061MB');
    expect(memoryLimitForMemory(10240)).toBe('3072MB');
    expect(memoryLimitForMemory(512)).toBe('256MB');
    // The CLI counts at most the largest Lambda's memory (10,240 MB).
    expect(defaultMemoryLimit(24e9)).toBe('3072MB');
    expect(defaultMemoryLimit(10.24e9)).toBe('3072MB');
    expect(defaultMemoryLimit(8e9)).toBe('2400MB');
    expect(defaultMemoryLimit(1e9)).toBe('300MB');
    expect(defaultMemoryLimit(5e8)).toBe('256MB');
  });
});

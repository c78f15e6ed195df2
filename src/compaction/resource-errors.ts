import { ClicklakeError, isClicklakeError } from '../errors.js';

/**
 * A unit's failure for lack of memory or scratch disk as one line that says what to raise; any
 * other error unchanged. Both come out of DuckDB or Node's fs deep inside the unit, where they
 * read like a bug, yet the fix is always the user's: a larger memory limit or a bigger disk.
 * Nothing of the unit has been committed when either happens (the manifest is written last).
 */
export function explainResourceError(err: unknown, unit: string, limits: { memoryLimit: string; scratchDir: string }): unknown {
  // Errors already written for the user (a lake write that failed, say) keep their own words.
  if (!(err instanceof Error) || isClicklakeError(err)) return err;
  if (err.message.startsWith('Out of Memory Error')) {
    return new ClicklakeError(
      'out_of_memory',
      `unit ${unit}: DuckDB ran out of memory within its ${limits.memoryLimit} limit and nothing was committed: raise --memory-limit (CLICKLAKE_MEMORY_LIMIT in Lambda) and run again`,
      { memoryLimit: limits.memoryLimit, cause: firstLine(err) },
      { cause: err },
    );
  }
  if ((err as NodeJS.ErrnoException).code === 'ENOSPC' || err.message.includes('No space left on device')) {
    return new ClicklakeError(
      'scratch_disk_full',
      `unit ${unit}: its scratch directory ${limits.scratchDir} ran out of disk space and nothing was committed: a unit needs about 2.5x its hour's uncompressed JSON there; free space, point TMPDIR at a bigger disk (in Lambda, raise the ephemeral storage) and run again`,
      { scratchDir: limits.scratchDir, cause: firstLine(err) },
      { cause: err },
    );
  }
  return err;
}

const firstLine = (err: Error): string => err.message.split('\n')[0]!;

import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/**
 * Runs a full garbage collection now, so memory JavaScript no longer uses goes back to the
 * system before DuckDB's memory-hungry steps. Staging leaves its read and block buffers (33 MiB
 * mappings, reused per object) and the last objects' decompressed bytes unreferenced; V8 frees
 * them only at its next full collection, which the little JS allocation during DuckDB's steps may
 * not cause before the sort's peak. Measured on the benchmark hour (bench/RESULTS.md): in about
 * one run in three ~200 MB of dead buffers were still counted at the unit's peak; peak RSS over
 * ten runs 519-639 MB (median 561) without this collection, 508-572 MB (median 525) with it. It
 * takes ~10 ms, and frees only what no live frame still holds: call it after the function that
 * used the memory has returned (see stageUnit).
 *
 * `gc` is exposed the way test runners' leak detectors get it when Node did not start with
 * --expose-gc: the flag set at run time takes effect for contexts created after it.
 */
let collect: (() => void) | undefined;

export async function releaseUnusedMemory(): Promise<void> {
  if (!collect) {
    const exposed = (globalThis as { gc?: () => void }).gc;
    if (exposed) collect = exposed;
    else {
      setFlagsFromString('--expose-gc');
      collect = runInNewContext('gc') as () => void;
    }
  }
  // Let callbacks still holding the buffers (the last writes) run first.
  await new Promise((resolve) => setImmediate(resolve));
  collect();
}

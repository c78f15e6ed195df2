/**
 * How fast compaction runs, in seconds per million events, for the cost model: from the
 * benchmark's results file (`bench/results.json`, written by `npm run bench:compact`) or from the
 * durations a real lake's manifests recorded. Each answer says where it came from.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { ClicklakeError } from '../errors.js';
import type { UnitManifest } from '../manifest/manifest.js';
import type { ObjectStore } from '../storage/types.js';

export interface CompactionSpeed {
  secondsPerMillion: number;
  /** The Lambda memory size the speed was measured at (or models). */
  lambdaMemoryMb: number;
  /** Where the number came from, for the report. */
  source: string;
}

/** The results file the benchmark writes, beside the package. */
export const BENCH_RESULTS_FILE = fileURLToPath(new URL('../../bench/results.json', import.meta.url));

/**
 * The speed used when no results file exists: the benchmark of 2026-11-21 (bench/RESULTS.md),
 * 17.26 s for a million events on 2 cores with 256MB for DuckDB, rounded up to 18.4 s, its
 * slowest recent median; a Lambda at 3,538 MB has the same two vCPUs and more memory.
 */
export const SEED_SPEED: CompactionSpeed = { secondsPerMillion: 18.4, lambdaMemoryMb: 3538, source: 'built-in seed: bench/RESULTS.md of 2026-11-21 (no bench/results.json)' };

interface BenchResult {
  profile?: string;
  config?: string;
  contender?: string;
  lambdaMemoryMb?: number;
  events?: number;
  wallSeconds?: number;
}

/**
 * The speed from a benchmark results file: the "clicklake" entry on the edge-validated profile in
 * the deployed configuration, else the first "clicklake" entry. `undefined` when the file is absent.
 */
export async function speedFromResults(file: string): Promise<CompactionSpeed | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return undefined;
  }
  let results: BenchResult[];
  try {
    const doc = JSON.parse(text) as { results?: unknown; generatedAt?: unknown };
    if (!Array.isArray(doc.results)) throw new Error('no "results" array');
    results = doc.results as BenchResult[];
  } catch (err) {
    throw new ClicklakeError('bad_results', `${file} is not a benchmark results file (${(err as Error).message}): rerun npm run bench:compact, or pass --results FILE`, { file });
  }
  const ours = results.filter((r) => r.contender === 'clicklake' && typeof r.wallSeconds === 'number' && typeof r.events === 'number' && r.events > 0);
  const pick = ours.find((r) => r.profile === 'edge-validated' && r.config === 'deployed') ?? ours[0];
  if (!pick) throw new ClicklakeError('bad_results', `${file} has no "clicklake" result with events and wallSeconds: rerun npm run bench:compact`, { file });
  return {
    secondsPerMillion: (pick.wallSeconds! / pick.events!) * 1e6,
    lambdaMemoryMb: pick.lambdaMemoryMb ?? SEED_SPEED.lambdaMemoryMb,
    source: `${file}: ${pick.profile ?? 'profile?'} / ${pick.config ?? 'config?'}, ${pick.wallSeconds} s for ${pick.events!.toLocaleString('en-US')} events`,
  };
}

/**
 * The speed a lake's manifests recorded: total unit duration over total records in. The time is
 * that of the machine that compacted the lake (the Lambda's, for a deployed lake).
 */
export async function speedFromLake(store: ObjectStore, manifestsPrefix: string, lambdaMemoryMb: number): Promise<CompactionSpeed> {
  let ms = 0;
  let records = 0;
  let units = 0;
  for await (const object of store.list(manifestsPrefix)) {
    if (!object.key.endsWith('.json')) continue;
    const manifest = JSON.parse((await store.getBytes(object.key)).toString('utf8')) as Partial<UnitManifest>;
    // A withdrawn manifest (a recompaction under way) carries the replaced commit's counts; the new commit counts once written.
    if (manifest.state !== undefined || typeof manifest.durationMs !== 'number' || typeof manifest.counts?.recordsIn !== 'number') continue;
    ms += manifest.durationMs;
    records += manifest.counts.recordsIn;
    units += 1;
  }
  if (records === 0) {
    throw new ClicklakeError('no_manifests', `${store.uri} has no compacted units under ${manifestsPrefix}: compact it first (clicklake compact), or leave out --lake to use the benchmark's speed`, { lake: store.uri });
  }
  return {
    secondsPerMillion: (ms / 1000 / records) * 1e6,
    lambdaMemoryMb,
    source: `${store.uri}: ${units} units' manifests, ${(ms / 1000).toFixed(1)} s for ${records.toLocaleString('en-US')} records`,
  };
}

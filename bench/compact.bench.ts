/**
 * npm run bench:compact [-- --events 1000000 --runs 3 --no-4x]
 *
 * Generates one realistic Firehose arrival hour (~700 B events; NDJSON, concatenated and GZIP
 * objects; batched arrays; a few percent invalid and duplicate records) and compacts it, side by
 * side in one run with:
 *   - DuckDB's own COPY from read_json to Parquet over a clean NDJSON copy of the same events (no
 *     framing, no validation, no dedupe: the speed anchor),
 *   - the same COPY with the rows sorted as every unit's are, under clicklake's memory limit: what
 *     the contract costs DuckDB alone before any checking (the floor for a DuckDB-based engine), and
 *   - parquetjs-lite (JSON.parse + appendRow; the naive writer, run on a slice and rated per MB).
 * Each contender runs in its own process so its peak RSS is its own. Then clicklake again on 4x
 * the input, to show memory does not grow with the hour's size. Ratios, not seconds, are the
 * result: the machine is shared and noisy, so the 1x contenders run `--runs` rounds, interleaved,
 * and the table shows each one's median time and its highest peak RSS.
 */
import { execFileSync } from 'node:child_process';
import { createWriteStream, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { transformSync } from 'esbuild';
import { once } from 'node:events';
import os from 'node:os';
import path from 'node:path';
import { writeSyntheticLake } from '../src/demo/generate.js';
import { openStore } from '../src/storage/open.js';
import { defaultMemoryLimit } from '../src/compaction/context.js';
import { memoryLimitForMemory } from '../src/compaction/write/memory.js';
import { clickstream } from '../src/synth/clickstream.js';

const argv = process.argv.slice(2);
const flag = (name: string, fallback: string): string => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1]! : fallback;
};
const EVENTS = Number(flag('events', '1000000'));
const PROFILE = flag('profile', 'dirty') as 'dirty' | 'edge-validated';
if (!['dirty', 'edge-validated'].includes(PROFILE)) throw new Error(`--profile must be dirty or edge-validated, not ${PROFILE}`);
/** The Lambda's configuration as deployed (docs/aws.md): 3,538 MB, DuckDB gets the handler's share. */
const DEPLOYED_MB = 3538;
const DEPLOYED_LIMIT = memoryLimitForMemory(DEPLOYED_MB);
const RESULTS_FILE = path.join(import.meta.dirname, 'results.json');
const WITH_4X = !argv.includes('--no-4x');
const RUNS = Number(flag('runs', '3'));
if (!Number.isInteger(RUNS) || RUNS < 1) throw new Error(`--runs must be a whole number of at least 1, not ${flag('runs', '3')}`);
const LITE_SLICE_BYTES = 64 << 20;
const HOUR = '2024-05-01T10';

interface ChildResult {
  ms: number;
  cpuSeconds?: number;
  maxRssMB: number;
  outBytes: number;
  rows: number;
  extra?: Record<string, unknown>;
}

/**
 * The contenders' entry, compiled next to dist/ so each runs on plain Node like the CLI does:
 * under tsx's loader every child carried its loader thread, 30-100 MB more peak RSS.
 */
const CHILDREN = path.join(import.meta.dirname, '..', 'dist', 'bench-children.mjs');
writeFileSync(CHILDREN, transformSync(readFileSync(path.join(import.meta.dirname, 'children.ts'), 'utf8'), { loader: 'ts', format: 'esm' }).code);

function child(...args: string[]): ChildResult {
  const out = execFileSync(process.execPath, [CHILDREN, ...args], { encoding: 'utf8', maxBuffer: 1 << 20, stdio: ['ignore', 'pipe', 'inherit'] });
  return JSON.parse(out.trim().split('\n').pop()!) as ChildResult;
}

/** One hour of Firehose objects, plus the same events as clean NDJSON; returns the JSON bytes. */
async function makeHour(dir: string, events: number, seed: number): Promise<{ lake: string; ndjson: string; jsonBytes: number; objects: number; storedBytes: number }> {
  const lake = `file://${path.join(dir, 'lake')}`;
  const store = openStore(lake);
  const raw = await writeSyntheticLake({
    store, table: 'click_events', seed, events, startDate: HOUR.slice(0, 10), days: 1, objectBytes: 8 << 20, lateShare: 0, profile: PROFILE,
  });
  // writeSyntheticLake spreads arrivals over a day; the benchmark wants one big hour, so move them.
  const { rename, mkdir, readdir } = await import('node:fs/promises');
  const root = path.join(dir, 'lake', 'raw', 'click_events');
  const target = path.join(root, '2024', '05', '01', '10');
  await mkdir(target, { recursive: true });
  for (const y of await readdir(root)) for (const m of await readdir(path.join(root, y))) for (const d of await readdir(path.join(root, y, m))) for (const h of await readdir(path.join(root, y, m, d))) {
    const from = path.join(root, y, m, d, h);
    if (from === target) continue;
    for (const f of await readdir(from)) await rename(path.join(from, f), path.join(target, `${y}${m}${d}${h}-${f}`));
  }
  const ndjson = path.join(dir, 'events.ndjson');
  const out = createWriteStream(ndjson);
  let jsonBytes = 0;
  for (const ev of clickstream({ seed, events, startMs: Date.parse(`${HOUR.slice(0, 10)}T00:00:00Z`), spanMs: 86_400_000 - 3_600_000 })) {
    const line = `${JSON.stringify(ev)}\n`;
    jsonBytes += line.length;
    if (!out.write(line)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'close');
  return { lake, ndjson, jsonBytes, objects: raw.objects, storedBytes: raw.bytes };
}

/** A contender over its rounds: the median round (its steps and counts), with the highest peak RSS of any round. */
function typical(rounds: ChildResult[]): ChildResult {
  const median = [...rounds].sort((a, b) => a.ms - b.ms)[Math.floor((rounds.length - 1) / 2)]!;
  return { ...median, maxRssMB: Math.max(...rounds.map((r) => r.maxRssMB)) };
}

const mb = (b: number): number => b / 1e6;
const fmt = (n: number, d = 1): string => n.toFixed(d);

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'clicklake-bench-'));
  try {
    process.stderr.write(`generating ${EVENTS.toLocaleString('en-US')} events ...\n`);
    const hour = await makeHour(path.join(dir, '1x'), EVENTS, 1);
    process.stderr.write(`  ${hour.objects} objects, ${fmt(mb(hour.storedBytes))} MB stored, ${fmt(mb(hour.jsonBytes))} MB of JSON\n`);
    const runs: Record<'ours' | 'oursDeployed' | 'anchor' | 'sorted' | 'sortedDeployed' | 'lite', ChildResult[]> = { ours: [], oursDeployed: [], anchor: [], sorted: [], sortedDeployed: [], lite: [] };
    const fresh = () => {
      for (const made of ['_manifests', 'curated', 'errors']) rmSync(path.join(dir, '1x', 'lake', made), { recursive: true, force: true });
    };
    for (let round = 1; round <= RUNS; round++) {
      process.stderr.write(`round ${round} of ${RUNS}: clicklake ...`);
      // Every round compacts the hour from scratch, as the first one did.
      fresh();
      runs.ours.push(child('clicklake', hour.lake, HOUR));
      process.stderr.write(` clicklake as deployed (${DEPLOYED_LIMIT}) ...`);
      fresh();
      runs.oursDeployed.push(child('clicklake', hour.lake, HOUR, DEPLOYED_LIMIT));
      process.stderr.write(' DuckDB COPY anchor ...');
      runs.anchor.push(child('anchor', hour.ndjson, path.join(dir, 'anchor.parquet')));
      process.stderr.write(' sorted anchor ...');
      runs.sorted.push(child('anchor-sorted', hour.ndjson, path.join(dir, 'sorted.parquet')));
      process.stderr.write(` sorted anchor in ${DEPLOYED_LIMIT} ...`);
      runs.sortedDeployed.push(child('anchor-sorted', hour.ndjson, path.join(dir, 'sorted.parquet'), DEPLOYED_LIMIT));
      process.stderr.write(' parquetjs-lite on a slice ...\n');
      runs.lite.push(child('parquetjs-lite', hour.ndjson, path.join(dir, 'lite.parquet'), String(LITE_SLICE_BYTES)));
    }
    const ours = typical(runs.ours);
    const anchor = typical(runs.anchor);
    const sorted = typical(runs.sorted);
    const oursDeployed = typical(runs.oursDeployed);
    const sortedDeployed = typical(runs.sortedDeployed);
    const lite = typical(runs.lite);
    process.stderr.write(`1x: clicklake ${fmt(ours.ms / 1000, 2)} s (${fmt(ours.maxRssMB, 0)} MB peak), anchor ${fmt(anchor.ms / 1000, 2)} s\n`);
    let ours4: ChildResult | undefined;
    let failed4: string | undefined;
    if (WITH_4X) {
      rmSync(path.join(dir, '1x'), { recursive: true, force: true });
      process.stderr.write(`generating 4x (${(EVENTS * 4).toLocaleString('en-US')} events) ...\n`);
      const big = await makeHour(path.join(dir, '4x'), EVENTS * 4, 2);
      process.stderr.write('running clicklake on 4x ...\n');
      try {
        ours4 = child('clicklake', big.lake, HOUR);
      } catch (err) {
        failed4 = (err as Error).message.split('\n')[0];
      }
    }

    const rate = (bytes: number, ms: number): number => mb(bytes) / (ms / 1000);
    const anchorRate = rate(hour.jsonBytes, anchor.ms);
    const liteBytes = Number((lite.extra as { inputBytes: number }).inputBytes);
    const rows: string[][] = [
      ['clicklake compaction (frame, validate, dedupe, sort, Parquet)', fmt(mb(hour.jsonBytes)), fmt(ours.ms / 1000, 2), fmt(rate(hour.jsonBytes, ours.ms)), fmt(EVENTS / (ours.ms / 1000) / 1000, 0), fmt(ours.maxRssMB, 0), fmt(mb(ours.outBytes), 1), fmt(rate(hour.jsonBytes, ours.ms) / anchorRate, 2)],
      [`clicklake as deployed (Lambda ${DEPLOYED_MB} MB: ${DEPLOYED_LIMIT} for DuckDB)`, fmt(mb(hour.jsonBytes)), fmt(oursDeployed.ms / 1000, 2), fmt(rate(hour.jsonBytes, oursDeployed.ms)), fmt(EVENTS / (oursDeployed.ms / 1000) / 1000, 0), fmt(oursDeployed.maxRssMB, 0), fmt(mb(oursDeployed.outBytes), 1), fmt(rate(hour.jsonBytes, oursDeployed.ms) / anchorRate, 2)],
      ['DuckDB COPY read_json -> Parquet (no validation; anchor)', fmt(mb(hour.jsonBytes)), fmt(anchor.ms / 1000, 2), fmt(anchorRate), fmt(anchor.rows / (anchor.ms / 1000) / 1000, 0), fmt(anchor.maxRssMB, 0), fmt(mb(anchor.outBytes), 1), '1.00'],
      [`DuckDB COPY as above, sorted like a unit, in clicklake's ${defaultMemoryLimit()} limit (the floor)`, fmt(mb(hour.jsonBytes)), fmt(sorted.ms / 1000, 2), fmt(rate(hour.jsonBytes, sorted.ms)), fmt(sorted.rows / (sorted.ms / 1000) / 1000, 0), fmt(sorted.maxRssMB, 0), fmt(mb(sorted.outBytes), 1), fmt(rate(hour.jsonBytes, sorted.ms) / anchorRate, 2)],
      [`the floor in ${DEPLOYED_LIMIT} (as deployed)`, fmt(mb(hour.jsonBytes)), fmt(sortedDeployed.ms / 1000, 2), fmt(rate(hour.jsonBytes, sortedDeployed.ms)), fmt(sortedDeployed.rows / (sortedDeployed.ms / 1000) / 1000, 0), fmt(sortedDeployed.maxRssMB, 0), fmt(mb(sortedDeployed.outBytes), 1), fmt(rate(hour.jsonBytes, sortedDeployed.ms) / anchorRate, 2)],
      [`parquetjs-lite (JSON.parse + appendRow; ${fmt(mb(liteBytes), 0)} MB slice)`, fmt(mb(liteBytes)), fmt(lite.ms / 1000, 2), fmt(rate(liteBytes, lite.ms)), fmt(lite.rows / (lite.ms / 1000) / 1000, 0), fmt(lite.maxRssMB, 0), fmt(mb(lite.outBytes), 1), fmt(rate(liteBytes, lite.ms) / anchorRate, 2)],
    ];
    if (ours4) rows.push(['clicklake compaction, 4x input (memory check)', fmt(mb(hour.jsonBytes) * 4), fmt(ours4.ms / 1000, 2), fmt(rate(hour.jsonBytes * 4, ours4.ms)), fmt((EVENTS * 4) / (ours4.ms / 1000) / 1000, 0), fmt(ours4.maxRssMB, 0), fmt(mb(ours4.outBytes), 1), fmt(rate(hour.jsonBytes * 4, ours4.ms) / anchorRate, 2)]);
    const header = ['contender', 'JSON MB', 'time s', 'MB/s', 'k events/s', 'peak RSS MB', 'Parquet MB', 'x anchor'];
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
    const line = (r: string[]): string => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ');
    console.log(`\ncompaction benchmark: one Firehose hour of ${EVENTS.toLocaleString('en-US')} events (profile ${PROFILE}), ${os.cpus().length} cores, node ${process.version}`);
    console.log(line(header));
    console.log(widths.map((w) => '-'.repeat(w)).join('-+-'));
    for (const r of rows) console.log(line(r));
    console.log(`\nclicklake vs parquetjs-lite: ${fmt(rate(hour.jsonBytes, ours.ms) / rate(liteBytes, lite.ms), 1)}x`);
    const seconds = (rs: ChildResult[]): string => rs.map((r) => fmt(r.ms / 1000, 2)).join(', ');
    console.log(`1x times per round (s): clicklake ${seconds(runs.ours)}; anchor ${seconds(runs.anchor)}; sorted anchor ${seconds(runs.sorted)}; parquetjs-lite ${seconds(runs.lite)}`);
    if (ours4) console.log(`peak RSS 4x / 1x: ${fmt(ours4.maxRssMB / ours.maxRssMB, 2)}`);
    if (failed4) console.log(`4x run FAILED: ${failed4}`);
    console.log(`clicklake steps (ms): ${JSON.stringify(Object.fromEntries(Object.entries((ours.extra as { steps: Record<string, number> }).steps).map(([k, v]) => [k, Math.round(v)])))}`);
    console.log(`clicklake counts: ${JSON.stringify((ours.extra as { counts: unknown }).counts)}`);
    console.log(`clicklake / the same-work floor: ${fmt(sorted.ms / ours.ms, 2)}x at the CLI default (${defaultMemoryLimit()}), ${fmt(sortedDeployed.ms / oursDeployed.ms, 2)}x as deployed (${DEPLOYED_LIMIT})`);
    writeResults([
      { contender: 'clicklake', config: 'cli-default', memoryLimit: defaultMemoryLimit(), run: ours },
      { contender: 'clicklake', config: 'deployed', memoryLimit: DEPLOYED_LIMIT, lambdaMemoryMb: DEPLOYED_MB, run: oursDeployed },
      { contender: 'duckdb-sorted-floor', config: 'cli-default', memoryLimit: defaultMemoryLimit(), run: sorted },
      { contender: 'duckdb-sorted-floor', config: 'deployed', memoryLimit: DEPLOYED_LIMIT, lambdaMemoryMb: DEPLOYED_MB, run: sortedDeployed },
      { contender: 'duckdb-copy-anchor', config: 'unlimited', run: anchor },
    ], hour.jsonBytes);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

interface ResultEntry {
  contender: string;
  config: string;
  memoryLimit?: string;
  lambdaMemoryMb?: number;
  run: ChildResult;
}

/**
 * bench/results.json, which `clicklake cost` reads for the compaction speed: this profile's
 * entries replace the ones of an earlier run of the same profile; the other profile's stay.
 */
function writeResults(entries: ResultEntry[], jsonBytes: number): void {
  let previous: Array<Record<string, unknown>> = [];
  try {
    previous = (JSON.parse(readFileSync(RESULTS_FILE, 'utf8')) as { results: Array<Record<string, unknown>> }).results.filter((r) => r['profile'] !== PROFILE);
  } catch {
    // first run, or an unreadable file: start over
  }
  const results = entries.map((e) => ({
    profile: PROFILE,
    config: e.config,
    contender: e.contender,
    ...(e.memoryLimit ? { memoryLimit: e.memoryLimit } : {}),
    ...(e.lambdaMemoryMb ? { lambdaMemoryMb: e.lambdaMemoryMb } : {}),
    events: EVENTS,
    jsonMB: Math.round(mb(jsonBytes) * 10) / 10,
    wallSeconds: Math.round(e.run.ms) / 1000,
    ...(typeof e.run.cpuSeconds === 'number' ? { cpuSeconds: Math.round(e.run.cpuSeconds * 100) / 100 } : {}),
    peakRssMB: Math.round(e.run.maxRssMB),
  }));
  const doc = { generatedAt: new Date().toISOString(), machine: `${os.cpus().length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB, node ${process.version}`, results: [...previous, ...results] };
  writeFileSync(RESULTS_FILE, `${JSON.stringify(doc, null, 2)}\n`);
  console.log(`wrote ${RESULTS_FILE}`);
}

await main();

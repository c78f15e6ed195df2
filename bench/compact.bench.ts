/**
 * npm run bench:compact [-- --events 1000000 --runs 1 --profile dirty|edge-validated|both --no-4x]
 *
 * Generates one Firehose arrival hour of ~700 B events per input profile (`dirty`: NDJSON,
 * concatenated and GZIP objects, batched arrays, a few percent broken and duplicate records;
 * `edge-validated`: what passes the deployed API Gateway model) and compacts it, side by side in
 * one run with, over a clean NDJSON copy of the same events:
 *   - DuckDB's own COPY from read_json to Parquet (no framing, validation or dedupe: the anchor),
 *   - the same COPY sorted as every unit is, under clicklake's memory limit: the same-work floor,
 *   - the peers a Python user would pick (bench/peers.py: pyarrow, polars), parsing with explicit
 *     types, sorting like a unit and writing ZSTD Parquet: the floor's work, in their engines,
 *   - parquetjs-lite (JSON.parse + appendRow; the naive writer, run on a slice and rated per MB).
 * clicklake and the floor run in two configurations: the CLI default memory limit and as deployed
 * (DuckDB's share of a 3,538 MB Lambda). Every contender runs in its own process, so its peak RSS is its own; rounds are
 * interleaved over both profiles (`--runs`), and the tables show each one's median time and its
 * highest peak RSS. Then clicklake as deployed on 4x the edge-validated input: peak memory must
 * not grow with the hour. Every contender is also priced as if it ran in the deployed Lambda size.
 * Ratios, not seconds, are the result: the machine is shared and its timings noisy.
 *
 * Runtime on this project's 2-core machine with the defaults (1M events, both profiles, one round,
 * the 4x check): about 7 minutes (7.0 measured under `nice` on a shared machine), of which the
 * round over both profiles takes about 4 and the 4x check about 2: each further round adds about 4.
 */
import { execFileSync } from 'node:child_process';
import { createWriteStream, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { rename, mkdir, readdir } from 'node:fs/promises';
import { once } from 'node:events';
import os from 'node:os';
import path from 'node:path';
import { transformSync } from 'esbuild';
import { writeSyntheticLake } from '../src/demo/generate.js';
import { openStore } from '../src/storage/open.js';
import { defaultMemoryLimit } from '../src/compaction/context.js';
import { memoryLimitForMemory } from '../src/compaction/write/memory.js';
import { loadPrices } from '../src/cost/prices.js';
import { clickstream } from '../src/synth/clickstream.js';

type Profile = 'dirty' | 'edge-validated';
type Config = 'cli-default' | 'deployed' | 'unlimited';

const argv = process.argv.slice(2);
const flag = (name: string, fallback: string): string => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1]! : fallback;
};
const EVENTS = Number(flag('events', '1000000'));
const RUNS = Number(flag('runs', '1'));
if (!Number.isInteger(RUNS) || RUNS < 1) throw new Error(`--runs must be a whole number of at least 1, not ${flag('runs', '1')}`);
const PROFILE_FLAG = flag('profile', 'both');
if (!['dirty', 'edge-validated', 'both'].includes(PROFILE_FLAG)) throw new Error(`--profile must be dirty, edge-validated or both, not ${PROFILE_FLAG}`);
const PROFILES: Profile[] = PROFILE_FLAG === 'both' ? ['dirty', 'edge-validated'] : [PROFILE_FLAG as Profile];
const WITH_4X = !argv.includes('--no-4x');
/** The Lambda's configuration as deployed (docs/aws.md): 3,538 MB, DuckDB gets the handler's share. */
const DEPLOYED_MB = 3538;
const DEPLOYED_LIMIT = memoryLimitForMemory(DEPLOYED_MB);
const CLI_LIMIT = defaultMemoryLimit();
const LITE_SLICE_BYTES = 64 << 20;
const HOUR = '2024-05-01T10';
const RESULTS_FILE = path.join(import.meta.dirname, 'results.json');
const PEERS_SCRIPT = path.join(import.meta.dirname, 'peers.py');
const PYTHON_PEERS = ['pyarrow', 'polars'] as const;

interface ChildResult {
  ms: number;
  cpuSeconds: number;
  maxRssMB: number;
  outBytes: number;
  rows: number;
  extra?: Record<string, unknown>;
}

interface Hour {
  profile: Profile;
  dir: string;
  lake: string;
  ndjson: string;
  jsonBytes: number;
  /** Events in the clean NDJSON: the generator can finish a session a few events past --events. */
  events: number;
  objects: number;
  storedBytes: number;
}

interface Contender {
  /** The name in bench/results.json. */
  name: string;
  label: string;
  config: Config;
  memoryLimit?: string;
  /** What it reads: the Firehose objects, the clean NDJSON, or a slice of it (rated per MB). */
  input: 'lake' | 'ndjson' | 'slice';
  run(hour: Hour): ChildResult;
}

/** A contender's rounds in one profile: the median round, with the highest peak RSS of any round. */
interface Measured {
  contender: Contender;
  rounds: ChildResult[];
  typical?: ChildResult;
  failure?: string;
}

/**
 * The contenders' entry, compiled next to dist/ so each runs on plain Node like the CLI does:
 * under tsx's loader every child carried its loader thread, 30-100 MB more peak RSS.
 */
const CHILDREN = path.join(import.meta.dirname, '..', 'dist', 'bench-children.mjs');
writeFileSync(CHILDREN, transformSync(readFileSync(path.join(import.meta.dirname, 'children.ts'), 'utf8'), { loader: 'ts', format: 'esm' }).code);

/** Runs a contender's process and reads the JSON line it prints last. */
function runProcess(command: string, args: string[]): ChildResult {
  const out = execFileSync(command, args, { encoding: 'utf8', maxBuffer: 1 << 20, stdio: ['ignore', 'pipe', 'inherit'] });
  return JSON.parse(out.trim().split('\n').pop()!) as ChildResult;
}

const nodeChild = (...args: string[]): ChildResult => runProcess(process.execPath, [CHILDREN, ...args]);

/** Whether python3 and the peer's module are there: undefined when they are, else why not. */
function peerMissing(peer: string): string | undefined {
  try {
    const answer = JSON.parse(execFileSync('python3', [PEERS_SCRIPT, 'check', peer], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })) as { missing?: string };
    return answer.missing ? `not installed: ${answer.missing}` : undefined;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'python3 not found' : `python3 ${PEERS_SCRIPT} check ${peer} failed: ${(err as Error).message.split('\n')[0]}`;
  }
}

/** Removes what compacting the hour wrote, so every clicklake run starts from the raw objects. */
function freshLake(hour: Hour): void {
  for (const made of ['_manifests', 'curated', 'errors']) rmSync(path.join(hour.dir, 'lake', made), { recursive: true, force: true });
}

const outFile = (hour: Hour, name: string): string => path.join(hour.dir, `${name}.parquet`);

function contenders(peers: readonly string[]): Contender[] {
  const clicklake = (name: string, label: string, config: Config, memoryLimit: string): Contender => ({
    name, label, config, memoryLimit, input: 'lake',
    run: (hour) => {
      freshLake(hour);
      return nodeChild('clicklake', hour.lake, HOUR, memoryLimit);
    },
  });
  const floor = (config: Config, memoryLimit: string, label: string): Contender => ({
    name: 'duckdb-sorted-floor', label, config, memoryLimit, input: 'ndjson',
    run: (hour) => nodeChild('anchor-sorted', hour.ndjson, outFile(hour, 'floor'), memoryLimit),
  });
  return [
    clicklake('clicklake', 'clicklake (frame, validate, dedupe, sort, Parquet)', 'cli-default', CLI_LIMIT),
    clicklake('clicklake', 'clicklake, as deployed', 'deployed', DEPLOYED_LIMIT),
    floor('cli-default', CLI_LIMIT, 'DuckDB COPY sorted like a unit (the same-work floor)'),
    floor('deployed', DEPLOYED_LIMIT, 'the same-work floor, as deployed'),
    { name: 'duckdb-copy-anchor', label: 'DuckDB COPY read_json -> Parquet, unsorted (the anchor)', config: 'unlimited', input: 'ndjson', run: (hour) => nodeChild('anchor', hour.ndjson, outFile(hour, 'anchor')) },
    ...peers.map((peer): Contender => ({
      name: peer, label: `${peer} (read NDJSON, sort, write ZSTD)`, config: 'unlimited', input: 'ndjson',
      run: (hour) => runProcess('python3', [PEERS_SCRIPT, peer, hour.ndjson, outFile(hour, peer)]),
    })),
    {
      name: 'parquetjs-lite', label: `parquetjs-lite (JSON.parse + appendRow, ${mb(LITE_SLICE_BYTES).toFixed(0)} MB slice)`, config: 'unlimited', input: 'slice',
      run: (hour) => nodeChild('parquetjs-lite', hour.ndjson, outFile(hour, 'lite'), String(LITE_SLICE_BYTES)),
    },
  ];
}

/** The events as clean NDJSON (no framing, every event once): the input of the anchor, the floor and the peers. */
async function writeCleanNdjson(file: string, events: number, seed: number): Promise<{ jsonBytes: number; events: number }> {
  const out = createWriteStream(file);
  let jsonBytes = 0;
  let written = 0;
  for (const ev of clickstream({ seed, events, startMs: Date.parse(`${HOUR.slice(0, 10)}T00:00:00Z`), spanMs: 86_400_000 - 3_600_000 })) {
    const line = `${JSON.stringify(ev)}\n`;
    jsonBytes += Buffer.byteLength(line);
    written++;
    if (!out.write(line)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'close');
  return { jsonBytes, events: written };
}

/** One hour of Firehose objects of `profile` under `dir`/lake. */
async function writeHourLake(dir: string, profile: Profile, events: number, seed: number): Promise<{ lake: string; objects: number; storedBytes: number }> {
  const lake = `file://${path.join(dir, 'lake')}`;
  const raw = await writeSyntheticLake({
    store: openStore(lake), table: 'click_events', seed, events, startDate: HOUR.slice(0, 10), days: 1, objectBytes: 8 << 20, lateShare: 0, profile,
  });
  // writeSyntheticLake spreads arrivals over a day; the benchmark wants one big hour, so move them.
  const root = path.join(dir, 'lake', 'raw', 'click_events');
  const target = path.join(root, '2024', '05', '01', '10');
  await mkdir(target, { recursive: true });
  for (const y of await readdir(root)) for (const m of await readdir(path.join(root, y))) for (const d of await readdir(path.join(root, y, m))) for (const h of await readdir(path.join(root, y, m, d))) {
    const from = path.join(root, y, m, d, h);
    if (from === target) continue;
    for (const f of await readdir(from)) await rename(path.join(from, f), path.join(target, `${y}${m}${d}${h}-${f}`));
  }
  return { lake, objects: raw.objects, storedBytes: raw.bytes };
}

function median(rounds: ChildResult[]): ChildResult {
  const middle = [...rounds].sort((a, b) => a.ms - b.ms)[Math.floor((rounds.length - 1) / 2)]!;
  return { ...middle, maxRssMB: Math.max(...rounds.map((r) => r.maxRssMB)) };
}

const mb = (b: number): number => b / 1e6;
const fmt = (n: number, d = 1): string => n.toFixed(d);
const thousands = (n: number): string => Math.round(n).toLocaleString('en-US');

interface Pricing {
  usdPerGBSecond: number;
  file: string;
  asOf: string;
}

/** What a contender's typical round comes to: per input, and billed as the deployed Lambda would bill it. */
interface Metrics {
  events: number;
  inputBytes: number;
  wallSeconds: number;
  /** MB of JSON read per second: compares contenders on different inputs (the slice). */
  mbPerSecond: number;
  cpuSeconds: number;
  peakRssMB: number;
  outMB: number;
  /** GB-seconds of this run in a Lambda of the deployed size: configured memory x duration. */
  gbSeconds: number;
  gbSecondsPerMillionEvents: number;
  usdPerMillionEvents: number;
  fitsLambda: boolean;
}

function metrics(contender: Contender, run: ChildResult, hour: Hour, pricing: Pricing): Metrics {
  // a contender on a slice reports the bytes it read and counts its rows
  const slice = contender.input === 'slice';
  const events = slice ? run.rows : hour.events;
  const wallSeconds = run.ms / 1000;
  const gbSeconds = wallSeconds * (DEPLOYED_MB / 1024);
  const gbSecondsPerMillionEvents = (gbSeconds / events) * 1e6;
  const inputBytes = slice ? Number(run.extra!['inputBytes']) : hour.jsonBytes;
  return {
    events,
    inputBytes,
    wallSeconds,
    mbPerSecond: mb(inputBytes) / wallSeconds,
    cpuSeconds: run.cpuSeconds,
    peakRssMB: run.maxRssMB,
    outMB: mb(run.outBytes),
    gbSeconds,
    gbSecondsPerMillionEvents,
    usdPerMillionEvents: gbSecondsPerMillionEvents * pricing.usdPerGBSecond,
    fitsLambda: run.maxRssMB <= DEPLOYED_MB,
  };
}

const findMeasured = (measured: Measured[], name: string, config: Config): Measured | undefined =>
  measured.find((m) => m.contender.name === name && m.contender.config === config);
const find = (measured: Measured[], name: string, config: Config): ChildResult | undefined => findMeasured(measured, name, config)?.typical;

/** The floor a contender is held against: the one under the same limit (the CLI default's for contenders without one). */
const floorFor = (measured: Measured[], config: Config): ChildResult | undefined => find(measured, 'duckdb-sorted-floor', config === 'unlimited' ? 'cli-default' : config);

const limitLabel = (c: Contender): string => (c.config === 'unlimited' ? 'none' : `${c.memoryLimit} (${c.config === 'deployed' ? 'deployed' : 'CLI default'})`);

const TABLE_HEADER = ['contender', 'DuckDB limit', 'JSON MB', 'wall s', 'CPU s', 'peak RSS MB', 'Parquet MB', 'k events/s', 'x anchor', 'x floor', 'GB-s / M events', '$ / M events'];

/** One table row: the contender's typical round against the anchor and its floor; priced as if run in the deployed Lambda size. */
function tableRow({ contender, typical: run, failure }: Measured, measured: Measured[], hour: Hour, pricing: Pricing): string[] {
  if (!run) return [contender.label, limitLabel(contender), `FAILED: ${failure ?? 'no result'}`, ...TABLE_HEADER.slice(3).map(() => '')];
  const m = metrics(contender, run, hour, pricing);
  const anchor = find(measured, 'duckdb-copy-anchor', 'unlimited');
  const floor = floorFor(measured, contender.config);
  // the anchor and the floor read the whole clean NDJSON
  const speed = (base: ChildResult | undefined): string => (base ? fmt(m.mbPerSecond / (mb(hour.jsonBytes) / (base.ms / 1000)), 2) : '-');
  const notFit = m.fitsLambda ? '' : ' (!)';
  return [
    contender.label, limitLabel(contender), fmt(mb(m.inputBytes)), fmt(m.wallSeconds, 2), fmt(m.cpuSeconds, 2), `${fmt(m.peakRssMB, 0)}${notFit}`, fmt(m.outMB, 1),
    fmt(m.events / m.wallSeconds / 1000, 0), speed(anchor), speed(floor), fmt(m.gbSecondsPerMillionEvents, 1), `$${m.usdPerMillionEvents.toPrecision(3)}${notFit}`,
  ];
}

/** A markdown table whose columns are also aligned in a terminal. */
function markdownTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, 3, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]): string => `| ${r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ')} |`;
  const rule = `|${widths.map((w, i) => (i === 0 ? `${'-'.repeat(w + 2)}` : `${'-'.repeat(w + 1)}:`)).join('|')}|`;
  return [line(header), rule, ...rows.map(line)].join('\n');
}

/** The 4x memory check: clicklake as deployed on 4x the edge-validated hour, against its 1x peak. */
interface MemoryCheck {
  run?: ChildResult;
  failure?: string;
}

async function memoryCheck(dir: string): Promise<MemoryCheck> {
  process.stderr.write(`4x memory check: generating ${(EVENTS * 4).toLocaleString('en-US')} edge-validated events ...\n`);
  const { lake } = await writeHourLake(path.join(dir, '4x'), 'edge-validated', EVENTS * 4, 2);
  process.stderr.write('  clicklake as deployed on 4x ...\n');
  try {
    return { run: nodeChild('clicklake', lake, HOUR, DEPLOYED_LIMIT) };
  } catch (err) {
    return { failure: (err as Error).message.split('\n')[0] };
  }
}

function printMemoryChecks(check: MemoryCheck, oneX: ChildResult | undefined): void {
  if (!check.run || !oneX) {
    console.log(`4x memory check FAILED: ${check.failure ?? 'no 1x run to compare with'}`);
    return;
  }
  const ratio = check.run.maxRssMB / oneX.maxRssMB;
  const peak = Math.max(check.run.maxRssMB, oneX.maxRssMB);
  const verdict = (ok: boolean): string => (ok ? 'PASS' : 'FAIL');
  console.log(`4x memory check (edge-validated, as deployed): ${(EVENTS * 4).toLocaleString('en-US')} events in ${fmt(check.run.ms / 1000, 2)} s, peak RSS ${fmt(check.run.maxRssMB, 0)} MB (1x: ${fmt(oneX.maxRssMB, 0)} MB)`);
  console.log(`${verdict(Math.abs(ratio - 1) <= 0.1)}: peak RSS 4x / 1x = ${fmt(ratio, 2)} (within 10%)`);
  console.log(`${verdict(peak <= DEPLOYED_MB / 2)}: highest peak RSS ${fmt(peak, 0)} MB (within half of the Lambda's ${thousands(DEPLOYED_MB)} MB: ${thousands(DEPLOYED_MB / 2)} MB)`);
}

function printProfile(hour: Hour, measured: Measured[], pricing: Pricing): void {
  console.log(`\n### ${hour.profile}: one Firehose hour of ${thousands(hour.events)} events (${hour.objects} objects, ${fmt(mb(hour.storedBytes))} MB stored, ${fmt(mb(hour.jsonBytes))} MB of JSON)\n`);
  const rows = measured.map((m) => tableRow(m, measured, hour, pricing));
  console.log(markdownTable(TABLE_HEADER, rows));
  for (const { contender, typical } of measured) {
    // the clean NDJSON holds every event once: a contender that wrote another count did other work
    if (contender.input === 'ndjson' && typical && typical.rows !== hour.events) console.log(`\nWARNING: ${contender.label} wrote ${thousands(typical.rows)} rows, not ${thousands(hour.events)}`);
  }
  const ratioOf = (name: string, config: Config): number | undefined => {
    const ours = find(measured, name, config);
    const floor = floorFor(measured, config);
    return ours && floor ? floor.ms / ours.ms : undefined;
  };
  const ratio = (name: string, config: Config): string => {
    const r = ratioOf(name, config);
    return r === undefined ? 'n/a' : `${fmt(r, 2)}x`;
  };
  console.log(`\nclicklake / the same-work floor: ${ratio('clicklake', 'cli-default')} at the CLI default (${CLI_LIMIT}), ${ratio('clicklake', 'deployed')} as deployed (${DEPLOYED_LIMIT})`);
  const deployed = ratioOf('clicklake', 'deployed');
  if (hour.profile === 'edge-validated' && deployed !== undefined) {
    console.log(`${deployed >= 0.35 ? 'PASS' : 'FAIL'}: clicklake as deployed at ${fmt(deployed, 2)}x the same-work floor on edge-validated (target 0.35x, goal 0.5x)`);
  }
  const metricsOf = (name: string, config: Config): Metrics | undefined => {
    const m = findMeasured(measured, name, config);
    return m?.typical ? metrics(m.contender, m.typical, hour, pricing) : undefined;
  };
  const ours = metricsOf('clicklake', 'cli-default');
  const lite = metricsOf('parquetjs-lite', 'unlimited');
  if (ours && lite) console.log(`clicklake vs parquetjs-lite: ${fmt(ours.mbPerSecond / lite.mbPerSecond, 1)}x`);
  if (RUNS > 1) console.log(`wall s per round: ${measured.map((m) => `${m.contender.label}: ${m.rounds.map((r) => fmt(r.ms / 1000, 2)).join(', ')}`).join('; ')}`);
  for (const m of measured.filter((x) => x.contender.name.startsWith('clicklake') && x.typical)) {
    const steps = (m.typical!.extra as { steps: Record<string, number> }).steps;
    console.log(`steps (ms), ${m.contender.label}: ${JSON.stringify(Object.fromEntries(Object.entries(steps).map(([k, v]) => [k, Math.round(v)])))}`);
  }
  const counts = find(measured, 'clicklake', 'cli-default')?.extra?.['counts'];
  if (counts) console.log(`clicklake counts: ${JSON.stringify(counts)}`);
}

async function main(): Promise<void> {
  const pricing: Pricing = await loadPrices({ region: 'us-east-1' }).then((p) => ({ usdPerGBSecond: p.amounts.lambdaArmPerGBSecond, file: p.file, asOf: p.asOf }));
  const skipped = PYTHON_PEERS.map((peer) => [peer, peerMissing(peer)] as const).filter(([, why]) => why);
  const notes = skipped.map(([peer, why]) => `${peer}: skipped (${why})`);
  for (const note of notes) process.stderr.write(`${note}\n`);
  const list = contenders(PYTHON_PEERS.filter((p) => !skipped.some(([s]) => s === p)));
  const dir = mkdtempSync(path.join(os.tmpdir(), 'clicklake-bench-'));
  try {
    process.stderr.write(`generating ${EVENTS.toLocaleString('en-US')} events: clean NDJSON ...\n`);
    const ndjson = path.join(dir, 'events.ndjson');
    const clean = await writeCleanNdjson(ndjson, EVENTS, 1);
    const hours: Hour[] = [];
    for (const profile of PROFILES) {
      process.stderr.write(`  ${profile} Firehose hour ...\n`);
      const hourDir = path.join(dir, profile);
      mkdirSync(hourDir, { recursive: true });
      hours.push({ profile, dir: hourDir, ndjson, ...clean, ...(await writeHourLake(hourDir, profile, EVENTS, 1)) });
    }
    const measured = new Map(hours.map((h) => [h.profile, list.map((contender): Measured => ({ contender, rounds: [] }))]));
    for (let round = 1; round <= RUNS; round++) {
      for (const hour of hours) {
        process.stderr.write(`round ${round} of ${RUNS}, ${hour.profile}:`);
        for (const m of measured.get(hour.profile)!) {
          process.stderr.write(` ${m.contender.label} ...`);
          try {
            m.rounds.push(m.contender.run(hour));
          } catch (err) {
            m.failure = (err as Error).message.split('\n')[0];
          }
        }
        process.stderr.write('\n');
      }
    }
    for (const m of [...measured.values()].flat()) if (m.rounds.length > 0) m.typical = median(m.rounds);

    const edge = measured.get('edge-validated');
    let check: MemoryCheck | undefined;
    if (WITH_4X && edge) {
      for (const hour of hours) rmSync(hour.dir, { recursive: true, force: true });
      check = await memoryCheck(dir);
    }

    console.log(`\n## compaction benchmark: ${os.cpus().length} cores, node ${process.version}, ${RUNS} round${RUNS > 1 ? 's' : ''} (median wall time, highest peak RSS)`);
    for (const note of notes) console.log(note);
    for (const hour of hours) printProfile(hour, measured.get(hour.profile)!, pricing);
    console.log(
      `\nwall s and CPU s: the timed work only; peak RSS: the whole process, decimal MB. x anchor / x floor: speed against DuckDB's unsorted COPY / its sorted COPY under the same limit (the CLI default's for contenders without one).` +
        `\nGB-s and $ per million events: if run in the deployed Lambda size, billed as configured memory x duration: wall s x ${fmt(DEPLOYED_MB / 1024, 3)} GB at $${pricing.usdPerGBSecond} per GB-s (arm64, ${path.relative(process.cwd(), pricing.file)} as of ${pricing.asOf}); (!) marks a peak RSS above ${thousands(DEPLOYED_MB)} MB, which would not fit.`,
    );
    if (check) {
      console.log('');
      printMemoryChecks(check, find(edge!, 'clicklake', 'deployed'));
    } else if (WITH_4X) {
      console.log('\n4x memory check: skipped (it runs on the edge-validated profile)');
    }
    writeResults([...measured.entries()].map(([profile, ms]) => ({ hour: hours.find((h) => h.profile === profile)!, measured: ms })), pricing);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * bench/results.json, which `clicklake cost` reads for the compaction speed (src/cost/speed.ts:
 * the "clicklake" entry of the edge-validated profile as deployed): the profiles of this run
 * replace the entries of an earlier run; other profiles' entries stay.
 */
function writeResults(profiles: Array<{ hour: Hour; measured: Measured[] }>, pricing: Pricing): void {
  let previous: Array<Record<string, unknown>> = [];
  try {
    previous = (JSON.parse(readFileSync(RESULTS_FILE, 'utf8')) as { results: Array<Record<string, unknown>> }).results.filter((r) => !PROFILES.includes(r['profile'] as Profile));
  } catch {
    // first run, or an unreadable file: start over
  }
  const results = profiles.flatMap(({ hour, measured }) =>
    measured.flatMap(({ contender, typical }) => {
      if (!typical) return [];
      const m = metrics(contender, typical, hour, pricing);
      return [{
        profile: hour.profile,
        config: contender.config,
        contender: contender.name,
        ...(contender.memoryLimit ? { memoryLimit: contender.memoryLimit } : {}),
        ...(contender.config === 'deployed' ? { lambdaMemoryMb: DEPLOYED_MB } : {}),
        events: m.events,
        jsonMB: Math.round(mb(m.inputBytes) * 10) / 10,
        wallSeconds: Math.round(typical.ms) / 1000,
        cpuSeconds: Math.round(m.cpuSeconds * 100) / 100,
        peakRssMB: Math.round(m.peakRssMB),
        gbSeconds: Math.round(m.gbSeconds * 100) / 100,
        usdPerMillionEvents: Number(m.usdPerMillionEvents.toPrecision(3)),
      }];
    }),
  );
  const doc = {
    generatedAt: new Date().toISOString(),
    machine: `${os.cpus().length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB, node ${process.version}`,
    billing: { note: 'gbSeconds and usdPerMillionEvents: the run billed as a Lambda of lambdaMemoryMb (configured memory x wall time), arm64', lambdaMemoryMb: DEPLOYED_MB, usdPerGBSecond: pricing.usdPerGBSecond, pricesAsOf: pricing.asOf },
    results: [...previous, ...results],
  };
  writeFileSync(RESULTS_FILE, `${JSON.stringify(doc, null, 2)}\n`);
  console.log(`\nwrote ${RESULTS_FILE}`);
}

await main();

/**
 * npm run bench:ingest [-- --seconds 10 --connections 50 --batch 25 --runs 2]
 *
 * Load on `clicklake serve` over 127.0.0.1 (autocannon, POST /events, batches of `--batch` demo
 * events), side by side in one run with the ceiling: the same HTTP app answering without writing
 * (bench/ingest-ceiling.mjs). Durable means every 200 waited for its fsync. Rounds interleave so
 * the shared machine's noise hits both; the table shows the median round. After the durable
 * rounds the server is stopped with SIGTERM and the raw zone is counted: every acknowledged
 * request must be there.
 * Goal: durable >= 0.5x the ceiling and >= 20,000 events/s on 2 cores with batches of 25.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { clickstream } from '../src/synth/clickstream.js';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const argv = process.argv.slice(2);
const flag = (name: string, fallback: string): number => {
  const i = argv.indexOf(`--${name}`);
  const n = Number(i >= 0 ? argv[i + 1] : fallback);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} must be a number above 0`);
  return n;
};
const SECONDS = flag('seconds', '10');
const CONNECTIONS = flag('connections', '50');
const BATCH = flag('batch', '25');
const RUNS = flag('runs', '2');

interface Round { name: string; requestsPerSecond: number; eventsPerSecond: number; p50: number; p99: number; non2xx: number; ok: number }

function start(command: string[], cwd: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, command, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) resolve({ child, url: m[1]! });
    });
    child.on('exit', (code) => reject(new Error(`${command.join(' ')} exited ${code}: ${err}`)));
  });
}

async function stop(child: ChildProcess): Promise<number | null> {
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  child.kill('SIGTERM');
  return exited;
}

const events = [...clickstream({ seed: 42, events: 200 * BATCH, startMs: Date.now() - 3_600_000, spanMs: 1_800_000 })];
const bodies = Array.from({ length: 200 }, (_, i) => JSON.stringify(events.slice(i * BATCH, (i + 1) * BATCH)));
const meanBody = bodies.reduce((n, b) => n + b.length, 0) / bodies.length;

async function load(name: string, url: string): Promise<Round> {
  const result = await autocannon({
    url: `${url}/events`,
    connections: CONNECTIONS,
    duration: SECONDS,
    requests: bodies.map((body) => ({ method: 'POST', path: '/events', headers: { 'content-type': 'text/plain' }, body })),
  });
  const ok = result['2xx'];
  return { name, requestsPerSecond: ok / SECONDS, eventsPerSecond: (ok * BATCH) / SECONDS, p50: result.latency.p50, p99: result.latency.p99, non2xx: result.non2xx + result.errors, ok };
}

function countDelivered(lakeDir: string): number {
  const raw = path.join(lakeDir, 'raw');
  let records = 0;
  for (const e of readdirSync(raw, { recursive: true, withFileTypes: true })) {
    if (e.isFile()) records += readFileSync(path.join(e.parentPath, e.name), 'utf8').split('\n').filter(Boolean).length;
  }
  return records;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

console.log(`bench:ingest  ${os.cpus().length} cores, Node ${process.version}; ${CONNECTIONS} connections, ${SECONDS} s per round, ${RUNS} round(s) each, batches of ${BATCH} events (${Math.round(meanBody)} B per request)`);
const rounds: Round[] = [];
let acknowledged = 0;
let delivered = 0;
for (let run = 0; run < RUNS; run++) {
  const ceiling = await start([path.join(ROOT, 'bench', 'ingest-ceiling.mjs')], ROOT);
  rounds.push(await load('ceiling (no writes)', ceiling.url));
  await stop(ceiling.child);

  const lakeDir = mkdtempSync(path.join(os.tmpdir(), 'clicklake-bench-ingest-'));
  const durable = await start([path.join(ROOT, 'bin', 'clicklake.js'), 'serve', '--lake', lakeDir, '--port', '0'], ROOT);
  const round = await load('clicklake serve (durable)', durable.url);
  rounds.push(round);
  const code = await stop(durable.child);
  if (code !== 0) throw new Error(`clicklake serve exited ${code} on SIGTERM`);
  acknowledged += round.ok;
  delivered += countDelivered(lakeDir);
  rmSync(lakeDir, { recursive: true, force: true });
}

const names = ['ceiling (no writes)', 'clicklake serve (durable)'];
const summary = names.map((name) => {
  const mine = rounds.filter((r) => r.name === name);
  return { name, rps: median(mine.map((r) => r.requestsPerSecond)), eps: median(mine.map((r) => r.eventsPerSecond)), p50: median(mine.map((r) => r.p50)), p99: median(mine.map((r) => r.p99)), non2xx: mine.reduce((n, r) => n + r.non2xx, 0) };
});
const base = summary[0]!.eps;
const rows = summary.map((s) => [s.name, s.rps.toFixed(0), s.eps.toFixed(0), `${s.p50.toFixed(1)} ms`, `${s.p99.toFixed(1)} ms`, String(s.non2xx), `${(s.eps / base).toFixed(2)}x`]);
const header = ['contender', 'requests/s', 'events/s', 'p50', 'p99', 'non-2xx', 'vs ceiling'];
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
const line = (cells: string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
console.log(line(header));
console.log(widths.map((w) => '-'.repeat(w)).join('  '));
for (const r of rows) console.log(line(r));
const durable = summary[1]!;
// Requests in flight when a round ends were stored but their answers not counted: at most one per connection.
const lost = delivered < acknowledged || delivered - acknowledged > CONNECTIONS * RUNS;
console.log(`\nnothing lost: ${acknowledged} requests acknowledged by the durable server, ${delivered} records delivered to the raw zone (the ${delivered - acknowledged} more were in flight as the rounds ended: at most ${CONNECTIONS} a round)${lost ? '  << MISMATCH' : ''}`);
console.log(`goal: durable >= 0.5x the ceiling (${(durable.eps / base).toFixed(2)}x: ${durable.eps / base >= 0.5 ? 'met' : 'NOT met'}), >= 20,000 events/s (${durable.eps.toFixed(0)}: ${durable.eps >= 20_000 ? 'met' : 'NOT met'})`);
if (lost) process.exitCode = 1;

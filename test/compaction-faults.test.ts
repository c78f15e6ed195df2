/**
 * Compaction through a fault-injecting proxy in front of a real S3 server (s3rver; the AWS SDK
 * v3 over HTTP, the CLI as users run it): 503 SlowDown, 500s, connections reset before an answer
 * and mid-body, bodies truncated with a clean close, answers that stall past the client's idle
 * timeout, on about one request in ten. Every run
 * either finishes or fails with one line naming the cause (never a stack trace); no manifest ever
 * names an output that is missing or different; once the faults stop, reruns give a lake
 * byte-identical to a fault-free run.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { writeSyntheticLake } from '../src/demo/generate.js';
import { openStore } from '../src/storage/open.js';
import { runCli } from './support/cli.js';
import { finalLake, manifestsAgreeWithObjects } from './support/lake-invariants.js';
import { startFaultProxy, type Fault, type FaultProxy } from './support/fault-proxy.js';
import { s3rverEnv, startTestS3, type TestS3 } from './support/s3-server.js';

let s3: TestS3;
let proxy: FaultProxy;
let root: string;
let now = '';
const FAULTS: Fault[] = ['slowdown', 'internal', 'reset', 'reset-mid-body', 'truncate', 'stall'];

/** A small seeded PRNG (mulberry32): the same faults on every run of the test. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const envFor = s3rverEnv;

/** The CLI as a user runs it, its SDK clients pointed at `endpoint` through the standard AWS environment. */
async function compact(lake: string, endpoint: string, ...extra: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  for (const [k, v] of Object.entries(envFor(endpoint))) vi.stubEnv(k, v);
  // A stalled answer (3 s) outlasts this idle timeout: the SDK gives up on it and retries.
  vi.stubEnv('CLICKLAKE_S3_IDLE_TIMEOUT_MS', '1000');
  try {
    return await runCli(['compact', '--lake', lake, '--all', '--now', now, ...extra], root);
  } finally {
    vi.unstubAllEnvs();
  }
}

beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'clicklake-faults-'));
  s3 = await startTestS3({ bucket: 'clicklake-faults' });
  for (const name of ['clean', 'faulty']) {
    const lake = await writeSyntheticLake({ store: openStore(`${s3.uri}/${name}`, { s3Client: s3.client }), table: 'click_events', seed: 21, events: 4000, startDate: '2024-05-06', days: 1 });
    now = new Date(lake.lastArrivalMs + 3 * 3_600_000).toISOString();
  }
  proxy = await startFaultProxy(s3.endpoint);
});
afterAll(async () => {
  await proxy?.close();
  await s3?.close();
  await rm(root, { recursive: true, force: true });
});

describe('compaction through injected S3 faults', () => {
  it('finishes or fails naming the cause, never leaves a manifest that disagrees with its objects, and converges to the fault-free lake', async () => {
    const clean = await compact(`${s3.uri}/clean`, s3.endpoint, '--json');
    expect(clean.code, clean.stderr).toBe(0);
    const expected = await finalLake(openStore(`${s3.uri}/clean`, { s3Client: s3.client }));
    expect(Object.keys(expected.manifests).length).toBeGreaterThan(10);

    const faulty = openStore(`${s3.uri}/faulty`, { s3Client: s3.client });
    const random = prng(7);
    proxy.decide = () => (random() < 0.1 ? FAULTS[Math.floor(random() * FAULTS.length)] : undefined);
    const runs: Array<{ code: number; error: string }> = [];
    for (let i = 0; i < 6; i++) {
      const run = await compact(`${s3.uri}/faulty`, proxy.endpoint);
      runs.push({ code: run.code, error: run.stderr.split('\n').filter((l) => l.startsWith('error:')).join(' | ') });
      expect([0, 1]).toContain(run.code);
      expect(run.stderr, 'no stack trace').not.toMatch(/^\s+at .+\(.+:\d+:\d+\)$/m);
      if (run.code === 1) expect(run.stderr).toMatch(/^error: .+/m);
      expect(await manifestsAgreeWithObjects(faulty), `after faulty run ${i + 1}`).toEqual([]);
    }
    const injected = proxy.requests.filter((r) => r.fault);
    const kinds = new Set(injected.map((r) => r.fault));
    console.log(`fault runs: ${runs.map((r) => r.code).join(' ')}; ${injected.length} of ${proxy.requests.length} requests broken (${[...kinds].join(', ')}); errors: ${runs.map((r) => r.error).filter(Boolean).join(' / ') || 'none'}`);
    expect(kinds.size).toBe(FAULTS.length);

    proxy.decide = () => undefined;
    const final = await compact(`${s3.uri}/faulty`, proxy.endpoint);
    expect(final.code, final.stderr).toBe(0);
    expect(await manifestsAgreeWithObjects(faulty)).toEqual([]);
    expect(await finalLake(faulty)).toEqual(expected);
    const again = await compact(`${s3.uri}/faulty`, proxy.endpoint);
    expect(again.stdout).toMatch(/^nothing to compact/);
  }, 600_000);
});

/**
 * Crashes at every step of the commit protocol, for real: the CLI runs as a child process and is
 * SIGKILLed right after its k-th write took effect (each Parquet output, the errors object, the
 * manifest, unit after unit): on an S3 server (s3rver) through a proxy that kills it before the
 * answer reaches it, and on a file:// lake through a preloaded hook that kills it right after the
 * file was renamed into place. After each crash no manifest disagrees with the objects it names,
 * and one rerun gives the same lake as a run that never crashed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeSyntheticLake } from '../src/demo/generate.js';
import { formatHour } from '../src/partitions/hours.js';
import { openStore } from '../src/storage/open.js';
import type { ObjectStore } from '../src/storage/types.js';
import { finalLake, manifestsAgreeWithObjects } from './support/lake-invariants.js';
import { startFaultProxy, type FaultProxy, type ProxiedRequest } from './support/fault-proxy.js';
import { s3rverEnv, startTestS3, type TestS3 } from './support/s3-server.js';

const ENTRY = path.resolve('test/support/cli-entry.ts');
let s3: TestS3;
let proxy: FaultProxy;
let root: string;
let now = '';
let hours: string[] = [];
let lakeSeq = 0;

/** A write of the commit protocol (the lease's own writes are not steps of it). */
const isWrite = (r: ProxiedRequest): boolean => (r.method === 'PUT' || r.method === 'DELETE' || (r.method === 'POST' && /uploads|uploadId/.test(r.path))) && !r.path.includes('/raw/') && !r.path.includes('/_leases/');

async function newLake(): Promise<{ uri: string; store: ObjectStore }> {
  const uri = `${s3.uri}/lake-${++lakeSeq}`;
  const store = openStore(uri, { s3Client: s3.client });
  await writeSyntheticLake({ store, table: 'click_events', seed: 9, events: 900, startDate: '2024-05-06', days: 1 });
  return { uri, store };
}

/** The CLI in its own process, through the proxy; resolves with how it ended. */
function compactChild(uri: string, onSpawn: (child: ChildProcess) => void = () => undefined): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> {
  const env = { ...process.env, ...s3rverEnv(proxy.endpoint) };
  const args = ['--import', 'tsx', ENTRY, 'compact', '--lake', uri, '--now', now, ...hours.flatMap((h) => ['--hour', h])];
  const child = spawn(process.execPath, args, { cwd: process.cwd(), env, stdio: ['ignore', 'ignore', 'pipe'] });
  onSpawn(child);
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  return new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal, stderr })));
}

beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'clicklake-crash-'));
  s3 = await startTestS3({ bucket: 'clicklake-crash' });
  proxy = await startFaultProxy(s3.endpoint);
  const lake = await writeSyntheticLake({ store: openStore(`${s3.uri}/probe`, { s3Client: s3.client }), table: 'click_events', seed: 9, events: 900, startDate: '2024-05-06', days: 1 });
  now = new Date(lake.lastArrivalMs + 3 * 3_600_000).toISOString();
  hours = [9, 12, 20].map((h) => formatHour(Date.UTC(2024, 4, 6, h)));
});
afterAll(async () => {
  await proxy?.close();
  await s3?.close();
  await rm(root, { recursive: true, force: true });
});

describe('SIGKILL after every write of the commit protocol', () => {
  it('leaves no manifest that disagrees with its objects, and one rerun gives the uncrashed lake', async () => {
    const reference = await newLake();
    const from = proxy.requests.length;
    const uncrashed = await compactChild(reference.uri);
    expect(uncrashed.code, uncrashed.stderr).toBe(0);
    const writes = proxy.requests.slice(from).filter(isWrite).map((r) => `${r.method} ${r.path.replace(/^\/[^/]+\/lake-\d+\//, '').replace(/\?.*$/, '')}`);
    expect(writes.filter((w) => w.includes(' _manifests/'))).toHaveLength(hours.length);
    expect(writes.some((w) => w.includes(' curated/'))).toBe(true);
    expect(writes.some((w) => w.includes(' errors/'))).toBe(true);
    const expected = await finalLake(reference.store);

    const crashes: string[] = [];
    for (let k = 1; k <= writes.length; k++) {
      const lake = await newLake();
      let child: ChildProcess | undefined;
      let seen = 0;
      proxy.afterForward = (r) => {
        if (!isWrite(r) || ++seen !== k) return false;
        child!.kill('SIGKILL');
        return true;
      };
      const crashed = await compactChild(lake.uri, (c) => (child = c));
      proxy.afterForward = () => false;
      expect(crashed.signal, `crash after write ${k} (${writes[k - 1]})`).toBe('SIGKILL');
      expect(await manifestsAgreeWithObjects(lake.store), `after the crash at write ${k}`).toEqual([]);
      const rerun = await compactChild(lake.uri);
      expect(rerun.code, rerun.stderr).toBe(0);
      expect(await finalLake(lake.store), `rerun after a crash at write ${k} (${writes[k - 1]})`).toEqual(expected);
      crashes.push(writes[k - 1]!);
    }
    console.log(`crashed after each of ${crashes.length} writes: ${crashes.join(', ')}`);
  }, 600_000);
});

describe('SIGKILL after every write of the commit protocol, on a file:// lake', () => {
  const HOOK = path.resolve('test/support/kill-after-writes.mjs');

  async function localLake(): Promise<{ dir: string; store: ObjectStore }> {
    const dir = path.join(root, `local-${++lakeSeq}`);
    const store = openStore(dir);
    await writeSyntheticLake({ store, table: 'click_events', seed: 9, events: 900, startDate: '2024-05-06', days: 1 });
    return { dir, store };
  }

  function compactLocal(dir: string, killAfter?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> {
    const env = { ...process.env, CLICKLAKE_TEST_LAKE_DIR: dir, ...(killAfter ? { CLICKLAKE_TEST_KILL_AFTER_WRITES: String(killAfter) } : {}) };
    const args = ['--import', 'tsx', '--import', HOOK, ENTRY, 'compact', '--lake', dir, '--now', now, ...hours.flatMap((h) => ['--hour', h])];
    const child = spawn(process.execPath, args, { cwd: process.cwd(), env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr!.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    return new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal, stderr })));
  }

  it('leaves no manifest that disagrees with its files, and one rerun gives the uncrashed lake', async () => {
    const reference = await localLake();
    const uncrashed = await compactLocal(reference.dir);
    expect(uncrashed.code, uncrashed.stderr).toBe(0);
    const writes = uncrashed.stderr.split('\n').filter((l) => l.startsWith('write: ')).map((l) => l.slice(7));
    expect(writes.filter((w) => w.includes(' _manifests/'))).toHaveLength(hours.length);
    expect(writes.some((w) => w.includes(' curated/'))).toBe(true);
    const expected = await finalLake(reference.store);
    for (let k = 1; k <= writes.length; k++) {
      const lake = await localLake();
      const crashed = await compactLocal(lake.dir, k);
      expect(crashed.signal, `crash after write ${k} (${writes[k - 1]})`).toBe('SIGKILL');
      expect(await manifestsAgreeWithObjects(lake.store), `after the crash at write ${k}`).toEqual([]);
      const rerun = await compactLocal(lake.dir);
      expect(rerun.code, rerun.stderr).toBe(0);
      expect(await finalLake(lake.store), `rerun after a crash at write ${k} (${writes[k - 1]})`).toEqual(expected);
    }
    console.log(`file:// lake: crashed after each of ${writes.length} writes: ${writes.join(', ')}`);
  }, 600_000);
});

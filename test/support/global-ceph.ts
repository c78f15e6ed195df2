/**
 * Vitest global setup: one single-node Ceph RGW for the whole run (../shared/tools/ceph-rgw.sh,
 * memory-backed, 127.0.0.1:7480, about 12 s to start), provided to the tests as `ceph`; stopped
 * at the end. One already answering on 7480 is used as is. Where radosgw is not installed or the
 * script is missing (or CLICKLAKE_TEST_CEPH=off, for quick local runs), the tests that need it
 * skip with the reason.
 */
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import type { TestProject } from 'vitest/node';
import { processExists } from '../../src/base/process.js';

const ENDPOINT = 'http://127.0.0.1:7480';
const SCRIPT = path.resolve(import.meta.dirname, '../../../shared/tools/ceph-rgw.sh');

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  if (process.env['CLICKLAKE_TEST_CEPH'] === 'off') {
    project.provide('ceph', { skip: 'CLICKLAKE_TEST_CEPH=off' });
    return async () => undefined;
  }
  const answering = await fetch(ENDPOINT).then(() => true, () => false);
  if (answering) {
    project.provide('ceph', { endpoint: ENDPOINT });
    return async () => undefined;
  }
  const missing = spawnSync('sh', ['-c', 'command -v radosgw']).status !== 0 ? 'radosgw is not installed (apt-get install radosgw ceph-mon ceph-osd uuid-runtime curl)' : !existsSync(SCRIPT) ? `${SCRIPT} is missing` : undefined;
  if (missing) {
    project.provide('ceph', { skip: missing });
    return async () => undefined;
  }
  // The script's OSD now and then fails to come up (exit 250, nothing on stderr: about one start
  // in six here). One cause seen: a monitor of an earlier run still on 127.0.0.1:6789, which the
  // new OSD then asks and which refuses it ("wrong fsid"); it also failed once with the port
  // free. So wait for the port, stop whatever a failed attempt started, and try again in a new
  // directory.
  const failures: string[] = [];
  for (let attempt = 1; attempt <= START_ATTEMPTS; attempt++) {
    if (!(await portFree(MON_PORT, 15_000))) {
      failures.push(`attempt ${attempt}: 127.0.0.1:${MON_PORT} is still taken (a Ceph monitor left running? stop it)`);
      continue;
    }
    const root = await mkdtemp(path.join(tmpdir(), 'clicklake-ceph-'));
    const dir = path.join(root, 'ceph-rgw');
    try {
      await promisify(execFile)('bash', [SCRIPT], { env: { ...process.env, D: dir }, timeout: 120_000 });
    } catch (err) {
      const e = err as { code?: number | string; signal?: string; stderr?: string };
      const stderr = String(e.stderr ?? '').trim().split('\n').slice(-2).join(' / ');
      failures.push(`attempt ${attempt}: exit ${e.code ?? e.signal}${stderr ? ` (${stderr})` : ''}`);
      await stop(dir, root);
      continue;
    }
    if (attempt > 1) console.error(`Ceph RGW started at attempt ${attempt} (${failures.join('; ')})`);
    project.provide('ceph', { endpoint: ENDPOINT });
    return () => stop(dir, root);
  }
  project.provide('ceph', { skip: `Ceph RGW did not start (${SCRIPT}): ${failures.join('; ')}` });
  return async () => undefined;
}

const START_ATTEMPTS = 3;
const MON_PORT = 6789;

/** Whether nothing accepts connections on 127.0.0.1:`port`, waiting up to `waitMs` for it to be let go. */
async function portFree(port: number, waitMs: number): Promise<boolean> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    const taken = await new Promise<boolean>((resolve) => {
      const socket = connect({ host: '127.0.0.1', port }, () => {
        socket.destroy();
        resolve(true);
      });
      socket.on('error', () => resolve(false));
    });
    if (!taken) return true;
    if (Date.now() > deadline) return false;
    await sleep(250);
  }
}

/** Stops whatever the script started under `dir` (from its pid files) and removes `root`. */
async function stop(dir: string, root: string): Promise<void> {
  const pids: number[] = [];
  for (const name of ['rgw', 'osd', 'mon']) {
    const pidFile = path.join(dir, 'run', `${name}.pid`);
    if (!existsSync(pidFile)) continue;
    const pid = Number(readFileSync(pidFile, 'utf8').trim());
    try {
      process.kill(pid, 'SIGKILL');
      pids.push(pid);
    } catch {
      // already gone
    }
  }
  // SIGKILL is delivered, not awaited: wait (up to 5 s) until the processes are gone.
  for (let waited = 0; waited < 5_000 && pids.some(processExists); waited += 100) await sleep(100);
  await rm(root, { recursive: true, force: true });
}

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
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { TestProject } from 'vitest/node';

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
  const root = await mkdtemp(path.join(tmpdir(), 'clicklake-ceph-'));
  const dir = path.join(root, 'ceph-rgw');
  try {
    await promisify(execFile)('bash', [SCRIPT], { env: { ...process.env, D: dir }, timeout: 120_000 });
  } catch (err) {
    project.provide('ceph', { skip: `Ceph RGW did not start: ${String((err as Error).message).split('\n')[0]}` });
    await rm(root, { recursive: true, force: true });
    return async () => undefined;
  }
  project.provide('ceph', { endpoint: ENDPOINT });
  return async () => {
    for (const name of ['rgw', 'osd', 'mon']) {
      const pidFile = path.join(dir, 'run', `${name}.pid`);
      if (!existsSync(pidFile)) continue;
      try {
        process.kill(Number(readFileSync(pidFile, 'utf8').trim()), 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await rm(root, { recursive: true, force: true });
  };
}

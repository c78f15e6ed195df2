/**
 * S3 implementations nobody here wrote, for the storage and compaction suites: moto_server (moto
 * 5, one per test file on a free 127.0.0.1 port) and Ceph RGW (production-grade, started once for
 * the whole run by test/support/global-ceph.ts). Where one is absent the caller skips, saying why;
 * CI installs both.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { randomUUID } from 'node:crypto';
import { CreateBucketCommand, type S3Client } from '@aws-sdk/client-s3';
import { inject } from 'vitest';
import { createS3Client } from '../../src/storage/s3-client.js';
import type { TestS3 } from './s3-server.js';

export interface ThirdPartyS3 extends TestS3 {
  /** AWS_* variables that point the CLI's own clients at this server. */
  env: Record<string, string>;
}

declare module 'vitest' {
  export interface ProvidedContext {
    /** Ceph RGW's endpoint when global-ceph.ts could start it, else the reason it could not. */
    ceph: { endpoint: string } | { skip: string };
  }
}

function onPath(command: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${command}`]).status === 0;
}

/** Why moto_server cannot run here, or undefined when it can. */
export function motoSkipReason(): string | undefined {
  return onPath('moto_server') ? undefined : 'moto_server is not installed (pip install "moto[server]")';
}

/** Why Ceph RGW is not available to this run, or undefined. */
export function cephSkipReason(): string | undefined {
  const ceph = inject('ceph');
  return 'skip' in ceph ? ceph.skip : undefined;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

async function waitUntilAnswers(endpoint: string, child: ChildProcess | undefined, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    if (child && child.exitCode !== null) throw new Error(`${what} exited with code ${child.exitCode} before answering`);
    const ok = await fetch(endpoint).then(() => true, () => false);
    if (ok) return;
    if (Date.now() > end) throw new Error(`${what} did not answer at ${endpoint} within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function envFor(endpoint: string, accessKeyId: string, secretAccessKey: string): Record<string, string> {
  return {
    AWS_ENDPOINT_URL_S3: endpoint,
    AWS_ACCESS_KEY_ID: accessKeyId,
    AWS_SECRET_ACCESS_KEY: secretAccessKey,
    AWS_REGION: 'us-east-1',
    AWS_PROFILE: '',
    AWS_CONFIG_FILE: '/dev/null',
    AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
  };
}

async function withBucket(endpoint: string, keys: [string, string], bucket: string, prefix: string, close: () => Promise<void>): Promise<ThirdPartyS3> {
  const client: S3Client = createS3Client({ endpoint, region: 'us-east-1', credentials: { accessKeyId: keys[0], secretAccessKey: keys[1] }, forcePathStyle: true });
  try {
    await client.send(new CreateBucketCommand({ Bucket: bucket }));
  } catch (err) {
    client.destroy();
    await close();
    throw err;
  }
  const clean = prefix.replace(/^\/+|\/+$/g, '');
  return {
    endpoint,
    bucket,
    client,
    uri: clean ? `s3://${bucket}/${clean}` : `s3://${bucket}`,
    env: envFor(endpoint, keys[0], keys[1]),
    async close() {
      client.destroy();
      await close();
    },
  };
}

/** Starts moto_server on a free port of 127.0.0.1 and creates the bucket. */
export async function startMotoS3(options: { bucket?: string; prefix?: string } = {}): Promise<ThirdPartyS3> {
  const port = await freePort();
  const child = spawn('moto_server', ['-H', '127.0.0.1', '-p', String(port)], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (c: string) => (stderr = (stderr + c).slice(-2000)));
  const endpoint = `http://127.0.0.1:${port}`;
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null) return;
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
    await exited;
    clearTimeout(timer);
  };
  try {
    await waitUntilAnswers(endpoint, child, 20_000, 'moto_server');
  } catch (err) {
    await stop();
    throw new Error(`${(err as Error).message}: ${stderr}`);
  }
  return withBucket(endpoint, ['motokey', 'motosecret'], options.bucket ?? 'clicklake-test', options.prefix ?? '', stop);
}

/** A fresh bucket on the run's Ceph RGW (global-ceph.ts); deleting nothing on close (the cluster is memory-backed and goes at the end). */
export async function cephS3(options: { bucket?: string; prefix?: string } = {}): Promise<ThirdPartyS3> {
  const ceph = inject('ceph');
  if ('skip' in ceph) throw new Error(`Ceph RGW is not available: ${ceph.skip}`);
  const bucket = `${options.bucket ?? 'clicklake-test'}-${randomUUID().slice(0, 8)}`;
  return withBucket(ceph.endpoint, ['LAKEKEY', 'LAKESECRET'], bucket, options.prefix ?? '', async () => undefined);
}

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CreateBucketCommand, type S3Client } from '@aws-sdk/client-s3';
import { createS3Client } from '../../src/storage/s3-client.js';

/** A running S3-compatible server (s3rver) on 127.0.0.1 with one bucket, and a client for it. */
export interface TestS3 {
  endpoint: string;
  bucket: string;
  client: S3Client;
  /** s3://bucket or s3://bucket/prefix */
  uri: string;
  /** Stops the server, destroys the client and deletes the server's data directory. */
  close(): Promise<void>;
}

/** The standard AWS environment that points the CLI's own S3 client at an s3rver (or a proxy in front of one). */
export function s3rverEnv(endpoint: string): Record<string, string> {
  return {
    AWS_ENDPOINT_URL_S3: endpoint,
    AWS_ACCESS_KEY_ID: 'S3RVER',
    AWS_SECRET_ACCESS_KEY: 'S3RVER',
    AWS_REGION: 'us-east-1',
    AWS_PROFILE: '',
    AWS_CONFIG_FILE: '/dev/null',
    AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
  };
}

const STARTUP_TIMEOUT_MS = 15_000;
const SHUTDOWN_TIMEOUT_MS = 5_000;

/**
 * s3rver runs in a child process because its ListObjectsV2 continuation tokens use DES, which
 * OpenSSL 3 only offers with `--openssl-legacy-provider`: in-process under vitest any listing over
 * 1,000 keys fails. The child prints its port once listening, and exits when our end of its stdin
 * closes, so it cannot outlive the test process.
 */
const SERVER_SCRIPT = `
const S3rver = require(process.argv[1]);
const server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: process.argv[2] });
server.run().then(
  ({ port }) => process.stdout.write(JSON.stringify({ port }) + '\\n'),
  (err) => { console.error(err); process.exit(1); },
);
process.stdin.on('end', () => server.close().finally(() => process.exit(0)));
process.stdin.resume();
`;

/**
 * Starts s3rver on a random free port with a fresh temp directory and creates the bucket.
 *
 * @example
 * ```ts
 * const s3 = await startTestS3({ prefix: 'lake' });
 * const store = openStore(s3.uri, { s3Client: s3.client });
 * await s3.close();
 * ```
 */
export async function startTestS3(options: { bucket?: string; prefix?: string } = {}): Promise<TestS3> {
  const bucket = options.bucket ?? 'clicklake-test';
  const prefix = (options.prefix ?? '').replace(/^\/+|\/+$/g, '');
  const directory = await mkdtemp(path.join(tmpdir(), 'clicklake-s3rver-'));
  const s3rverMain = createRequire(import.meta.url).resolve('s3rver');
  const child = spawn(process.execPath, ['--openssl-legacy-provider', '-e', SERVER_SCRIPT, s3rverMain, directory], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let port: number;
  try {
    port = await waitForPort(child);
  } catch (err) {
    child.kill('SIGKILL');
    await rm(directory, { recursive: true, force: true });
    throw err;
  }
  const endpoint = `http://127.0.0.1:${port}`;
  const client = createS3Client({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    forcePathStyle: true,
  });
  const close = async (): Promise<void> => {
    client.destroy();
    await stopChild(child);
    await rm(directory, { recursive: true, force: true });
  };
  try {
    await client.send(new CreateBucketCommand({ Bucket: bucket }));
  } catch (err) {
    await close();
    throw err;
  }
  return { endpoint, bucket, client, uri: prefix === '' ? `s3://${bucket}` : `s3://${bucket}/${prefix}`, close };
}

function waitForPort(child: ChildProcess): Promise<number> {
  return new Promise((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => fail(new Error(`s3rver did not start within ${STARTUP_TIMEOUT_MS} ms. stderr: ${stderr}`)), STARTUP_TIMEOUT_MS);
    const onExit = (code: number | null) => fail(new Error(`s3rver exited with code ${code} before listening. stderr: ${stderr}`));
    function fail(err: Error): void {
      clearTimeout(timer);
      child.off('exit', onExit);
      reject(err);
    }
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      const line = stdout.split('\n')[0];
      if (!stdout.includes('\n') || line === undefined) return;
      clearTimeout(timer);
      child.off('exit', onExit);
      const port = (JSON.parse(line) as { port: unknown }).port;
      if (typeof port === 'number') resolve(port);
      else reject(new Error(`s3rver printed an unexpected first line: ${line}`));
    });
    child.on('exit', onExit);
    child.on('error', (err) => fail(err));
  });
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.stdin!.end();
  const timer = setTimeout(() => child.kill('SIGKILL'), SHUTDOWN_TIMEOUT_MS);
  await exited;
  clearTimeout(timer);
}

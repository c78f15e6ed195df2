/**
 * `clicklake serve` as a real child process (the source through tsx, so the test runs what is in
 * the tree): start it on a free port, read its URL, stop it with a signal.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { readWithHyparquet } from './parquet-read.js';
import { readFile } from 'node:fs/promises';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const ENTRY = path.join(ROOT, 'test', 'support', 'cli-entry.ts');

export interface ServeChild {
  url: string;
  child: ChildProcess;
  stderr(): string;
  /** Resolves with the exit code (or the signal's name). */
  exited: Promise<number | string>;
}

export async function startServeChild(args: string[], cwd = ROOT): Promise<ServeChild> {
  const child = spawn(process.execPath, ['--import', 'tsx', ENTRY, 'serve', '--port', '0', ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env } });
  let out = '';
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | string>((resolve) => child.on('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve did not start in 60 s:\n${err}`)), 60_000);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`serve exited (${code}) before listening:\n${err}`));
    });
  });
  return { url, child, stderr: () => err, exited };
}

/** Every curated row of a local lake's table, read with hyparquet (an independent reader). */
export async function curatedRows(lakeDir: string, table: string): Promise<Array<Record<string, unknown>>> {
  const base = path.join(lakeDir, 'curated', table);
  const rows: Array<Record<string, unknown>> = [];
  let dts: string[] = [];
  try {
    dts = await readdir(base);
  } catch {
    return rows;
  }
  for (const dt of dts) {
    for (const file of await readdir(path.join(base, dt))) {
      if (!file.endsWith('.parquet')) continue;
      for (const row of await readWithHyparquet(await readFile(path.join(base, dt, file)))) {
        // BIGINT columns come back as bigint; the events were sent with JSON numbers.
        rows.push(Object.fromEntries(Object.entries(row).map(([k, v]) => [k, typeof v === 'bigint' ? Number(v) : v])));
      }
    }
  }
  return rows;
}

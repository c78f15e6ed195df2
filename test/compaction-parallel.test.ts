import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeSyntheticLake } from '../src/demo/generate.js';
import { openStore } from '../src/storage/open.js';
import { runCli } from './support/cli.js';

let root: string;
const lakes = { sequential: '', parallel: '' };
let now = '';

async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) out.push(path.relative(dir, path.join(entry.parentPath, entry.name)));
  }
  return out.sort();
}

/** A manifest without what differs between any two runs: when it ran and how long it took. */
function withoutTiming(text: string): unknown {
  const { startedAt: _s, finishedAt: _f, durationMs: _d, ...rest } = JSON.parse(text) as Record<string, unknown>;
  return rest;
}

beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'clicklake-parallel-'));
  for (const name of ['sequential', 'parallel'] as const) {
    lakes[name] = path.join(root, name);
    // The same seed gives the same raw zone, byte for byte, in both lakes.
    const lake = await writeSyntheticLake({ store: openStore(lakes[name]), table: 'click_events', seed: 11, events: 6000, startDate: '2024-05-06', days: 1 });
    now = new Date(lake.lastArrivalMs + 3 * 3_600_000).toISOString();
  }
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('compact --parallel', () => {
  it('gives a lake byte-identical to a sequential run (manifests apart from their timing)', async () => {
    const seq = await runCli(['compact', '--lake', lakes.sequential, '--all', '--now', now, '--json'], root);
    const par = await runCli(['compact', '--lake', lakes.parallel, '--all', '--now', now, '--json', '--parallel', '2'], root);
    expect(seq.stderr).toBe('');
    expect(par.stderr).toBe('');
    expect([seq.code, par.code]).toEqual([0, 0]);
    const seqUnits = (JSON.parse(seq.stdout) as { units: Array<{ hour: string }> }).units.map((u) => u.hour);
    const parUnits = (JSON.parse(par.stdout) as { units: Array<{ hour: string }> }).units.map((u) => u.hour);
    expect(seqUnits.length).toBeGreaterThan(10);
    expect(parUnits).toEqual(seqUnits);

    const files = await filesUnder(lakes.sequential);
    expect(await filesUnder(lakes.parallel)).toEqual(files);
    const curated = files.filter((f) => f.startsWith('curated/') && f.endsWith('.parquet'));
    const errors = files.filter((f) => f.startsWith('errors/'));
    const manifests = files.filter((f) => f.startsWith('_manifests/'));
    expect(curated.length).toBeGreaterThan(0);
    expect(errors.length).toBeGreaterThan(0);
    expect(manifests.length).toBe(seqUnits.length);
    for (const f of files) {
      const [a, b] = await Promise.all([readFile(path.join(lakes.sequential, f)), readFile(path.join(lakes.parallel, f))]);
      if (f.startsWith('_manifests/')) expect(withoutTiming(b.toString('utf8')), f).toEqual(withoutTiming(a.toString('utf8')));
      else expect(b.equals(a), f).toBe(true);
    }
  });

  it.each(['0', '1.5', 'two', '-3'])('refuses --parallel %s naming the fix', async (value) => {
    const res = await runCli(['compact', '--lake', lakes.sequential, '--all', '--now', now, '--parallel', value], root);
    expect(res.code).toBe(1);
    expect(res.stderr).toBe(`error: --parallel ${value} must be a whole number of at least 1, e.g. --parallel 2\n`);
  });
});

import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withDuckDB } from '../src/base/duckdb.js';
import { quotedString } from '../src/base/sql.js';
import { runCli } from './support/cli.js';

/** The README's first quick-start command, at a size a test can afford. */
const DEMO = ['demo', '--events', '2500', '--days', '1', '--rows', '2'];
const VIEWS_DIR = fileURLToPath(new URL('../sql/views/', import.meta.url));

let work: string;
let first: { code: number; stdout: string; stderr: string };

beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'clicklake-demo-'));
  first = await runCli([...DEMO, '--lake', 'lake'], work);
}, 120_000);
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

async function filesUnder(dir: string, suffix: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile() && e.name.endsWith(suffix)).map((e) => path.join(e.parentPath, e.name)).sort();
}

function accounting(stdout: string): { recordsIn: number; written: number; duplicates: number; rejected: number } {
  const m = /records in (\d+) = written (\d+) \+ duplicates (\d+) \+ rejected (\d+)/.exec(stdout);
  if (!m) throw new Error(`no accounting line in:\n${stdout}`);
  return { recordsIn: Number(m[1]), written: Number(m[2]), duplicates: Number(m[3]), rejected: Number(m[4]) };
}

describe('clicklake demo', () => {
  it('compacts the generated lake: the Parquet holds every written event once, the errors every rejected record', async () => {
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    const counts = accounting(first.stdout);
    expect(counts.recordsIn).toBe(counts.written + counts.duplicates + counts.rejected);
    expect(counts.duplicates).toBeGreaterThan(0);
    expect(counts.rejected).toBeGreaterThan(0);

    const lake = path.join(work, 'lake');
    const parquet = await filesUnder(path.join(lake, 'curated'), '.parquet');
    expect(parquet.length).toBeGreaterThan(0);
    const [rows, ids] = await withDuckDB(async (conn) => {
      const r = await conn.runAndReadAll(`SELECT count(*), count(DISTINCT event_id) FROM read_parquet([${parquet.map(quotedString).join(', ')}])`);
      return r.getRows()[0]!.map(Number);
    });
    expect(rows).toBe(counts.written);
    expect(ids).toBe(rows);

    let errorLines = 0;
    for (const file of await filesUnder(path.join(lake, 'errors'), '.ndjson.gz')) {
      for (const line of gunzipSync(await readFile(file)).toString('utf8').split('\n').filter((l) => l !== '')) {
        const error = JSON.parse(line) as { source_key: string; code: string; record?: string };
        expect(error.source_key).toMatch(/^raw\/click_events\//);
        expect(error.code).not.toBe('');
        errorLines++;
      }
    }
    expect(errorLines).toBe(counts.rejected);
  });

  it('shows every curated view and what Athena would scan for it', async () => {
    const views = (await readdir(VIEWS_DIR)).filter((f) => f.endsWith('.sql')).map((f) => f.replace(/\.sql$/, ''));
    expect(views.length).toBeGreaterThan(0);
    for (const view of views) {
      expect(first.stdout).toContain(`\n-- ${view}\n`);
      expect(first.stdout).toMatch(new RegExp(`^${view}\\s+\\| [\\d.]+ [KM]?B\\s+\\| \\$[\\d.]+\\s+\\| [\\d.]+ [KM]?B\\s+\\| \\$[\\d.]+\\s+\\| [\\d.]+x$`, 'm'));
    }
    expect(first.stdout).toMatch(/Try: npx clicklake query --lake lake "/);
  });

  it('replaces its own lake on a rerun, with the same data for the same seed', async () => {
    const again = await runCli([...DEMO, '--lake', `file://${path.join(work, 'lake')}`], work);
    expect(again.code).toBe(0);
    expect(accounting(again.stdout)).toEqual(accounting(first.stdout));
  }, 120_000);

  it('never wipes a directory it did not write, and refuses a lake that is not local', async () => {
    const foreign = path.join(work, 'mine');
    await mkdir(foreign);
    await writeFile(path.join(foreign, 'notes.txt'), 'keep me');
    const refused = await runCli([...DEMO, '--lake', 'mine'], work);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/holds data the demo did not write/);
    expect(existsSync(path.join(foreign, 'notes.txt'))).toBe(true);

    const s3 = await runCli([...DEMO, '--lake', 's3://acme-clicks/prod'], work);
    expect(s3.code).toBe(1);
    expect(s3.stderr).toMatch(/local directory only.*clicklake compact --lake s3:/);
  });
});

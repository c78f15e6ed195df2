import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HAND_EVENTS, writeHandLake } from './support/hand-lake.js';
import { runCli } from './support/cli.js';

let dir: string;
let lake: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'clicklake-query-cli-'));
  await writeHandLake(path.join(dir, 'lake'));
  lake = pathToFileURL(path.join(dir, 'lake')).href;
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('clicklake query on the local engine', () => {
  it('prints the rows and what Athena would scan for them', async () => {
    const r = await runCli(['query', '--lake', lake, 'SELECT count(*) AS n FROM click_events'], dir);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^n\\s*\\n-+\\n${HAND_EVENTS.length}\\s*\\n\\(1 row\\)`, 'm'));
    expect(r.stdout).toMatch(/Athena would scan .* and bill 10\.0 MB: \$0\.000048/);
  });

  it('--explain-cost estimates without running the query, counting only the columns read', async () => {
    const narrow = await runCli(['query', '--lake', lake, '--explain-cost', 'SELECT restaurant_id FROM click_events'], dir);
    const wide = await runCli(['query', '--lake', lake, '--explain-cost', 'SELECT * FROM click_events'], dir);
    expect(narrow.code).toBe(0);
    expect(narrow.stdout).toMatch(/Athena would scan .*\(1 column\(s\)/);
    expect(narrow.stdout).not.toMatch(/^restaurant_id/m);
    const bytes = (out: string): number => {
      const m = /scan ([\d.]+) (B|KB|MB)/.exec(out)!;
      return Number(m[1]) * (m[2] === 'KB' ? 1024 : m[2] === 'MB' ? 1024 * 1024 : 1);
    };
    expect(bytes(wide.stdout)).toBeGreaterThan(bytes(narrow.stdout));
  });

  it('prunes partitions by dt in the estimate', async () => {
    const all = await runCli(['query', '--lake', lake, '--explain-cost', '--format', 'json', 'SELECT event_id FROM click_events'], dir);
    const one = await runCli(['query', '--lake', lake, '--explain-cost', '--format', 'json', `SELECT event_id FROM click_events WHERE dt = '${HAND_EVENTS[0]!.time.slice(0, 10)}'`], dir);
    const a = JSON.parse(all.stdout) as { files: number; filesTotal: number };
    const o = JSON.parse(one.stdout) as { files: number; filesTotal: number };
    expect(o.files).toBeLessThan(a.files);
    expect(a.files).toBe(a.filesTotal);
  });

  it('refuses --explain-cost with --athena, saying what to do instead', async () => {
    const r = await runCli(['query', '--athena', '--explain-cost', 'SELECT 1'], dir);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/--explain-cost estimates from a local lake/);
  });

  it('takes the lake as a plain directory path too, relative to the working directory', async () => {
    const uri = await runCli(['query', '--lake', lake, '--format', 'csv', 'SELECT count(*) AS n FROM click_events'], dir);
    const relative = await runCli(['query', '--lake', 'lake', '--format', 'csv', 'SELECT count(*) AS n FROM click_events'], dir);
    const absolute = await runCli(['query', '--lake', path.join(dir, 'lake'), '--format', 'csv', 'SELECT count(*) AS n FROM click_events'], dir);
    expect(relative.stderr).toBe('');
    expect(relative.code).toBe(0);
    expect(relative.stdout).toBe(`n\r\n${HAND_EVENTS.length}\r\n`);
    expect(absolute.stdout).toBe(uri.stdout);
    expect(relative.stdout).toBe(uri.stdout);
  });

  it('reads ./lake when neither --lake nor a config names the lake, and says so when that directory is missing', async () => {
    const sql = 'SELECT count(*) AS n FROM click_events';
    const byDefault = await runCli(['query', '--format', 'csv', sql], dir);
    expect(byDefault).toMatchObject({ code: 0, stdout: `n\r\n${HAND_EVENTS.length}\r\n`, stderr: '' });
    const elsewhere = await mkdtemp(path.join(dir, 'no-lake-'));
    const missing = await runCli(['query', '--format', 'csv', sql], elsewhere);
    expect(missing.code).toBe(0);
    expect(missing.stdout).toBe('n\r\n0\r\n');
    expect(missing.stderr).toBe(`note: ${pathToFileURL(path.join(elsewhere, 'lake')).href} does not exist, so every table is empty: run \`clicklake demo\` or \`clicklake compact\` first, or pass --lake\n`);
  });

  it('aligns the table by terminal columns: wide (CJK, emoji) and combining characters', async () => {
    const r = await runCli(['query', '--lake', lake, "SELECT * FROM (VALUES ('焼き鳥', 1), ('pho 🍜', 2), ('cafe\u0301', 3), ('plain', 4)) AS t(dish, n)"], dir);
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    const bar = lines.findIndex((l) => /^-+-\+-/.test(l));
    expect(lines[bar - 1]).toMatch(/^dish\s+\| n$/);
    // Every row puts the separator in the same terminal column as the header: 'plain' is 5 wide, '焼き鳥' 6.
    expect(lines.slice(bar + 1, bar + 5)).toEqual(['焼き鳥 | 1', 'pho 🍜 | 2', 'cafe\u0301   | 3', 'plain  | 4']);
    expect(lines[bar]).toBe('-------+--');
  });
});

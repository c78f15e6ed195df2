import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { isClicklakeError } from '../src/errors.js';
import { applyViewsOnAthena, athenaCost, runAthenaQuery } from '../src/query/athena.js';
import { loadViews } from '../src/query/views.js';
import { startFakeAthena, type FakeAthena } from './support/fake-athena.js';
import { runCli } from './support/cli.js';

let athena: FakeAthena;
let work: string;
const noSleep = { sleep: async () => undefined };

beforeEach(async () => {
  athena = await startFakeAthena();
  vi.stubEnv('AWS_ENDPOINT_URL_ATHENA', athena.endpoint);
  vi.stubEnv('AWS_REGION', 'us-east-1');
  vi.stubEnv('AWS_ACCESS_KEY_ID', 'AKIDTEST');
  vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'test-secret');
  work = await mkdtemp(path.join(tmpdir(), 'clicklake-athena-'));
});

afterEach(async () => {
  vi.unstubAllEnvs();
  await athena.close();
  await rm(work, { recursive: true, force: true });
});

const operations = (name: string): any[] => athena.calls.filter((c) => c.operation === name);

describe('runAthenaQuery', () => {
  it('reads every page, skipping only the header row, and stops after the empty page a full last page leads to', async () => {
    // 1,999 rows + the header fill exactly two pages of 1,000: the second carries a NextToken to an empty third.
    const rows = Array.from({ length: 1999 }, (_, i) => [`item-${i}`, String(i), i % 7 === 0 ? null : 'x']);
    athena.onQuery(() => ({
      state: 'SUCCEEDED',
      columns: [{ name: 'item_id', type: 'varchar' }, { name: 'views', type: 'bigint' }, { name: 'note', type: 'varchar' }],
      rows,
      dataScannedInBytes: 123_456_789,
    }));
    const result = await runAthenaQuery(athena.client(), 'SELECT item_id, views, note FROM item_views_daily', { database: 'clicklake', workgroup: 'analysts', ...noSleep });
    expect(result.columns).toEqual([{ name: 'item_id', type: 'varchar' }, { name: 'views', type: 'bigint' }, { name: 'note', type: 'varchar' }]);
    expect(result.rows).toEqual(rows);
    expect(operations('GetQueryResults').map((c) => c.input.NextToken === undefined)).toEqual([true, false, false]);
    const start = operations('StartQueryExecution')[0].input;
    expect(start.WorkGroup).toBe('analysts');
    expect(start.QueryExecutionContext).toEqual({ Database: 'clicklake' });
    expect(result.cost.scannedBytes).toBe(123_456_789);
    expect(result.cost.billedBytes).toBe(118 * 1024 * 1024); // 117.7 MB rounded up to whole MB
  });

  it('keeps a data row that merely looks like a header out of the header logic for DDL results', async () => {
    athena.onQuery(() => ({ state: 'SUCCEEDED', columns: [{ name: 'tab_name', type: 'varchar' }], rows: [['tab_name'], ['click_events']] }));
    const result = await runAthenaQuery(athena.client(), 'SHOW TABLES', noSleep);
    expect(result.rows).toEqual([['tab_name'], ['click_events']]);
  });

  it('polls with exponential backoff until the query finishes', async () => {
    athena.onQuery(() => ({ state: 'SUCCEEDED', columns: [{ name: 'n', type: 'bigint' }], rows: [['42']], pollsBeforeDone: 4 }));
    const waits: number[] = [];
    const result = await runAthenaQuery(athena.client(), 'SELECT 42 AS n', { sleep: async (ms) => void waits.push(ms), initialPollMs: 100, maxPollMs: 500 });
    expect(result.rows).toEqual([['42']]);
    expect(waits).toEqual([100, 200, 400, 500]);
    expect(operations('GetQueryExecution')).toHaveLength(5);
  });

  it("raises Athena's own reason when the query fails", async () => {
    const reason = "TABLE_NOT_FOUND: line 1:15: Table 'awsdatacatalog.clicklake.nope' does not exist";
    athena.onQuery(() => ({ state: 'FAILED', reason, pollsBeforeDone: 1 }));
    const err = await runAthenaQuery(athena.client(), 'SELECT * FROM nope', noSleep).catch((e: unknown) => e);
    expect(isClicklakeError(err)).toBe(true);
    expect((err as { code: string }).code).toBe('athena_query_failed');
    expect((err as Error).message).toContain(reason);
    expect(operations('GetQueryResults')).toEqual([]);
  });

  it('stops a query that runs past the timeout', async () => {
    athena.onQuery(() => ({ state: 'SUCCEEDED', pollsBeforeDone: 1000 }));
    let clock = 0;
    const err = await runAthenaQuery(athena.client(), 'SELECT 1', { sleep: async (ms) => void (clock += ms), now: () => clock, timeoutMs: 10_000 }).catch((e: unknown) => e);
    expect((err as { code: string }).code).toBe('athena_timeout');
    expect(operations('StopQueryExecution')).toHaveLength(1);
    expect([...athena.executions.values()][0]!.state).toBe('CANCELLED');
  });
});

describe('athenaCost', () => {
  it('bills at least 10 MB, rounds up to the MB, $5 per TB, and nothing for DDL', () => {
    expect(athenaCost(2 ** 40)).toEqual({ scannedBytes: 2 ** 40, billedBytes: 2 ** 40, usd: 5 });
    expect(athenaCost(0).billedBytes).toBe(10 * 2 ** 20);
    expect(athenaCost(1).usd).toBeCloseTo(5 * (10 / 2 ** 20), 15);
    expect(athenaCost(11 * 2 ** 20 + 1).billedBytes).toBe(12 * 2 ** 20);
    expect(athenaCost(5_000_000, 'DDL')).toEqual({ scannedBytes: 5_000_000, billedBytes: 0, usd: 0 });
  });
});

describe('views on Athena', () => {
  it('creates the views in dependency order in the configured database', async () => {
    const views = await loadViews();
    expect(views.length).toBeGreaterThan(1);
    const { results, error } = await applyViewsOnAthena(athena.client(), views, { database: 'clicklake', ...noSleep });
    expect(error).toBeUndefined();
    expect(results.map((r) => r.status)).toEqual(views.map(() => 'applied'));
    const sent = operations('StartQueryExecution').map((c) => c.input);
    expect(sent.map((i) => i.QueryString)).toEqual(views.map((v) => v.sql));
    expect(sent.every((i) => i.QueryExecutionContext?.Database === 'clicklake')).toBe(true);
    const position = new Map(views.map((v, i) => [v.name, i]));
    for (const view of views) for (const dep of view.dependsOn) expect(position.get(dep)!).toBeLessThan(position.get(view.name)!);
  });

  it("stops at the first failed view with Athena's reason and lists the views not run (CLI)", async () => {
    const views = await loadViews();
    const failing = views[1]!;
    const reason = `COLUMN_NOT_FOUND: line 3:8: Column 'dish' cannot be resolved`;
    athena.onQuery((sql) => (sql === failing.sql ? { state: 'FAILED', reason } : { state: 'SUCCEEDED' }));
    const out = await runCli(['views', 'apply', '--athena', '--database', 'clicklake'], work);
    expect(out.code).toBe(1);
    expect(out.stdout.split('\n').filter(Boolean)).toEqual(
      views.map((v, i) => (i === 0 ? `applied      ${v.name}` : i === 1 ? `failed       ${v.name}  (${reason})` : `notExecuted  ${v.name}`)),
    );
    expect(out.stderr).toContain(`view ${failing.name} failed on Athena: ${reason}`);
    expect(out.stderr).toContain(`not run: ${views.slice(2).map((v) => v.name).join(', ')}`);
    expect(operations('StartQueryExecution')).toHaveLength(2);
    expect(out.stderr).toContain(`fix ${failing.file} and run`);
  });

  it('does not blame the view file when the call itself is refused (permissions, credentials)', async () => {
    const views = await loadViews();
    athena.failNext('StartQueryExecution', 'AccessDeniedException', 'User: arn:aws:iam::123456789012:user/ci is not authorized to perform: athena:StartQueryExecution');
    const out = await runCli(['views', 'apply', '--athena', '--database', 'clicklake'], work);
    expect(out.code).toBe(1);
    expect(out.stderr).toContain(`view ${views[0]!.name} failed on Athena: Athena StartQueryExecution failed: AccessDeniedException: User: arn:aws:iam::123456789012:user/ci is not authorized`);
    expect(out.stderr).toContain('run `clicklake views apply --athena` again once that is fixed');
    expect(out.stderr).not.toContain(`fix ${views[0]!.file}`);
  });

  it('blames the view file when Athena rejects its SQL at submission', async () => {
    const views = await loadViews();
    athena.onQuery(() => ({ state: 'SUCCEEDED' }));
    athena.failNext('StartQueryExecution', 'InvalidRequestException', "line 1:1: mismatched input 'CREAT'");
    const out = await runCli(['views', 'apply', '--athena', '--database', 'clicklake'], work);
    expect(out.code).toBe(1);
    expect(out.stderr).toContain(`fix ${views[0]!.file} and run`);
  });
});

describe('clicklake query --athena', () => {
  beforeEach(() => {
    athena.onQuery(() => ({
      state: 'SUCCEEDED',
      columns: [{ name: 'item_name', type: 'varchar' }, { name: 'views', type: 'bigint' }],
      rows: [['Crème brûlée', '12'], ['Fish, chips', null]],
      dataScannedInBytes: 3 * 2 ** 20,
    }));
  });

  it('prints a table with bytes scanned and cost, using the config file for workgroup and output location', async () => {
    await writeFile(
      path.join(work, 'clicklake.config.json'),
      JSON.stringify({ database: 'lake_db', athena: { workgroup: 'analysts', outputLocation: 's3://results-bucket/clicklake/' } }),
    );
    const out = await runCli(['query', '--athena', 'SELECT item_name, views FROM item_views_daily'], work);
    expect(out.stderr).toBe('');
    expect(out.code).toBe(0);
    expect(out.stdout).toContain('item_name    | views');
    expect(out.stdout).toContain('Crème brûlée | 12');
    expect(out.stdout).toContain('Fish, chips  | NULL');
    expect(out.stdout).toContain('(2 rows)');
    expect(out.stdout).toContain('3145728 bytes scanned (3.0 MB), billed 10.0 MB, cost $0.000048');
    const start = operations('StartQueryExecution')[0].input;
    expect(start.WorkGroup).toBe('analysts');
    expect(start.ResultConfiguration).toEqual({ OutputLocation: 's3://results-bucket/clicklake/' });
    expect(start.QueryExecutionContext).toEqual({ Database: 'lake_db' });
  });

  it('prints CSV and JSON', async () => {
    const csv = await runCli(['query', '--athena', '--format', 'csv', 'SELECT 1'], work);
    expect(csv.code).toBe(0);
    expect(csv.stdout).toBe('item_name,views\r\nCrème brûlée,12\r\n"Fish, chips",\r\n');
    expect(csv.stderr).toContain('bytes scanned');
    const json = await runCli(['query', '--athena', '--format', 'json', 'SELECT 1'], work);
    const parsed = JSON.parse(json.stdout);
    expect(parsed.rows).toEqual([{ item_name: 'Crème brûlée', views: '12' }, { item_name: 'Fish, chips', views: null }]);
    expect(parsed.cost).toEqual({ scannedBytes: 3 * 2 ** 20, billedBytes: 10 * 2 ** 20, usd: athenaCost(3 * 2 ** 20).usd });
  });

  it('without --athena runs locally, which needs a file:// lake: an s3:// one is refused, naming both fixes', async () => {
    const out = await runCli(['query', '--lake', 's3://my-lake/prod', 'SELECT 1'], work);
    expect(out.code).toBe(1);
    expect(out.stderr).toBe('error: the local engine reads a file:// lake, not s3://my-lake/prod: pass --lake file://./lake, or add --athena to run on Athena\n');
    expect(operations('StartQueryExecution')).toEqual([]);
  });
});

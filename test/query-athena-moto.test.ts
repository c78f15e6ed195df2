/**
 * `clicklake query --athena` against moto_server's Athena, a third-party implementation of the
 * API, through the real CLI in its own process (the SDK client it makes from the environment).
 * moto runs no SQL: a test queues the results a query returns through moto's own API
 * (`POST /moto-api/static/athena/query-results`; each StartQueryExecution takes the next one),
 * with the header row real Athena puts first in a SELECT's results. The CLI's rows and columns in
 * table, CSV and JSON, the workgroup, database and output location moto recorded for each query,
 * and the result file moto wrote there are checked; a workgroup moto does not know is refused
 * with one error line.
 *
 * The hand-written endpoint (test/support/fake-athena.ts, test/athena.test.ts) stays for what moto
 * does not do: FAILED and CANCELLED queries, throttled and refused calls, QUEUED/RUNNING polls,
 * result pages (moto returns every row in one page) and scanned bytes (moto reports 0).
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { AthenaClient, CreateWorkGroupCommand, GetQueryExecutionCommand, ListQueryExecutionsCommand } from '@aws-sdk/client-athena';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { motoSkipReason, startMotoS3, type ThirdPartyS3 } from './support/third-party-s3.js';

const skip = motoSkipReason();
if (skip) console.warn(`skipping query --athena on moto_server: ${skip}`);

const ENTRY = path.resolve('test/support/cli-entry.ts');
/** tsx by path: the CLI runs in a directory of its own (its config file), outside the project. */
const TSX = pathToFileURL(path.resolve('node_modules/tsx/dist/loader.mjs')).href;
const SQL = "SELECT item_name, views FROM item_views_daily WHERE dt = '2024-05-06' ORDER BY views DESC";
const WORKGROUP = 'analysts';
const DATABASE = 'lake_db';

let moto: ThirdPartyS3;
let work: string;
let athena: AthenaClient;

/** Column metadata as Athena returns it for a varchar and a bigint column. */
const COLUMNS = [
  { CatalogName: 'hive', SchemaName: '', TableName: '', Name: 'item_name', Label: 'item_name', Type: 'varchar', Precision: 2147483647, Scale: 0, Nullable: 'UNKNOWN', CaseSensitive: true },
  { CatalogName: 'hive', SchemaName: '', TableName: '', Name: 'views', Label: 'views', Type: 'bigint', Precision: 19, Scale: 0, Nullable: 'UNKNOWN', CaseSensitive: false },
];
/** The header row, then the data; a Datum without VarCharValue is SQL NULL. */
const ROWS = [
  { Data: [{ VarCharValue: 'item_name' }, { VarCharValue: 'views' }] },
  { Data: [{ VarCharValue: 'Crème brûlée' }, { VarCharValue: '12' }] },
  { Data: [{ VarCharValue: 'Fish, chips' }, {}] },
  { Data: [{ VarCharValue: 'Tiramisù' }, { VarCharValue: '3' }] },
];

/** Queues one result per query to come, in moto's own API. */
async function seedResults(count: number): Promise<void> {
  const body = { account_id: '123456789012', region: 'us-east-1', results: Array.from({ length: count }, () => ({ rows: ROWS, column_info: COLUMNS })) };
  const res = await fetch(`${moto.endpoint}/moto-api/static/athena/query-results`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  expect(res.status).toBe(201);
}

/** The real CLI in its own process, its AWS clients pointed at moto. */
function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const env = {
    ...process.env,
    AWS_ENDPOINT_URL: moto.endpoint,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'motokey',
    AWS_SECRET_ACCESS_KEY: 'motosecret',
    AWS_PROFILE: '',
    AWS_CONFIG_FILE: '/dev/null',
    AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
  };
  const child = spawn(process.execPath, ['--import', TSX, ENTRY, ...args], { cwd: work, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (c: string) => (stdout += c));
  child.stderr!.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, stdout, stderr })));
}

beforeAll(async () => {
  if (skip) return;
  moto = await startMotoS3({ bucket: 'clicklake-athena-results' });
  work = await mkdtemp(path.join(tmpdir(), 'clicklake-athena-moto-'));
  await writeFile(path.join(work, 'clicklake.config.json'), JSON.stringify({ database: DATABASE, athena: { workgroup: WORKGROUP, outputLocation: `s3://${moto.bucket}/queries/` } }));
  athena = new AthenaClient({ endpoint: moto.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'motokey', secretAccessKey: 'motosecret' } });
  await athena.send(new CreateWorkGroupCommand({ Name: WORKGROUP, Configuration: {} }));
});
afterAll(async () => {
  athena?.destroy();
  await moto?.close();
  if (work) await rm(work, { recursive: true, force: true });
});

describe.skipIf(skip)('clicklake query --athena on moto_server', () => {
  it('prints the rows moto returns as a table, CSV and JSON, and moto records the workgroup, database and output location of each query', async () => {
    await seedResults(3);
    const table = await cli(['query', '--athena', SQL]);
    expect(table.stderr).toBe('');
    expect(table.code).toBe(0);
    const lines = table.stdout.split('\n');
    expect(lines.slice(0, 5)).toEqual(['item_name    | views', '-------------+------', 'Crème brûlée | 12', 'Fish, chips  | NULL', 'Tiramisù     | 3']);
    expect(table.stdout).toContain('(3 rows)');
    expect(table.stdout).toMatch(/^0 bytes scanned \(0 B\), billed 10\.0 MB, cost \$0\.000048 \(query [0-9a-f-]{36}\)$/m);

    const csv = await cli(['query', '--athena', '--format', 'csv', SQL]);
    expect(csv.code, csv.stderr).toBe(0);
    expect(csv.stdout).toBe('item_name,views\r\nCrème brûlée,12\r\n"Fish, chips",\r\nTiramisù,3\r\n');
    expect(csv.stderr).toMatch(/^0 bytes scanned .* \(query [0-9a-f-]{36}\)\n$/);

    const json = await cli(['query', '--athena', '--format', 'json', SQL]);
    expect(json.code, json.stderr).toBe(0);
    const parsed = JSON.parse(json.stdout) as { columns: unknown; rows: unknown; queryExecutionId: string; cost: { scannedBytes: number } };
    expect(parsed.rows).toEqual([
      { item_name: 'Crème brûlée', views: '12' },
      { item_name: 'Fish, chips', views: null },
      { item_name: 'Tiramisù', views: '3' },
    ]);
    expect(parsed.cost.scannedBytes).toBe(0);

    // What moto recorded: three queries in the workgroup, each with the statement, the database
    // and the output location (moto appends <id>.csv, as Athena does), succeeded.
    const ids = (await athena.send(new ListQueryExecutionsCommand({ WorkGroup: WORKGROUP }))).QueryExecutionIds ?? [];
    expect(ids).toHaveLength(3);
    expect(ids).toContain(parsed.queryExecutionId);
    for (const id of ids) {
      const e = (await athena.send(new GetQueryExecutionCommand({ QueryExecutionId: id }))).QueryExecution!;
      expect(e.Query).toBe(SQL);
      expect(e.WorkGroup).toBe(WORKGROUP);
      expect(e.QueryExecutionContext?.Database).toBe(DATABASE);
      expect(e.ResultConfiguration?.OutputLocation).toBe(`s3://${moto.bucket}/queries/${id}.csv`);
      expect(e.Status?.State).toBe('SUCCEEDED');
      expect(e.StatementType).toBe('DML');
    }
    // moto writes the result file where the query said: the same rows, header first.
    const file = await moto.client.send(new GetObjectCommand({ Bucket: moto.bucket, Key: `queries/${parsed.queryExecutionId}.csv` }));
    expect(await file.Body!.transformToString()).toBe('"item_name","views"\n"Crème brûlée","12"\n"Fish, chips",\n"Tiramisù","3"\n');
  });

  it('refuses a workgroup moto does not know, in one error line naming the call', async () => {
    const out = await cli(['query', '--athena', '--workgroup', 'nobody', SQL]);
    expect(out.code).toBe(1);
    expect(out.stdout).toBe('');
    expect(out.stderr.trim().split('\n')).toHaveLength(1);
    expect(out.stderr).toMatch(/^error: Athena StartQueryExecution failed: InvalidRequestException: WorkGroup does not exist/);
  });
});

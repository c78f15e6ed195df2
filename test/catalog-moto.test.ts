/**
 * The catalog and the views against moto_server's Glue and Athena (a third-party implementation of
 * both APIs, through the real SDK clients the CLI makes): `catalog plan` / `apply` create the
 * database and the tables, a second plan finds nothing to do (moto hands the tables back in its
 * own serialization), a schema change plans and applies as additive columns; `views apply
 * --athena` submits every view and moto records each as succeeded; `partitions sync` registers
 * the dates of a compacted lake's manifests and, run again, finds them all registered. The
 * hand-written endpoints (test/support/fake-glue.ts, fake-athena.ts) remain for what moto does
 * not do: throttling, ConcurrentModificationException, FAILED queries, paging by one.
 */
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { AthenaClient, GetQueryExecutionCommand, ListQueryExecutionsCommand } from '@aws-sdk/client-athena';
import { GetPartitionsCommand, GetTablesCommand, GlueClient } from '@aws-sdk/client-glue';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { writeSyntheticLake } from '../src/demo/generate.js';
import { loadViews } from '../src/query/views.js';
import { openStore } from '../src/storage/open.js';
import { DEFAULT_SCHEMA_DIR } from '../src/schema/load.js';
import { runCli } from './support/cli.js';
import { motoSkipReason, startMotoS3, type ThirdPartyS3 } from './support/third-party-s3.js';

const skip = motoSkipReason();
if (skip) console.warn(`skipping the catalog and views tests on moto_server: ${skip}`);

let moto: ThirdPartyS3;
let work: string;
let schemasDir: string;
const clientConfig = () => ({ endpoint: moto.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'motokey', secretAccessKey: 'motosecret' } });

beforeAll(async () => {
  if (skip) return;
  moto = await startMotoS3({ bucket: 'clicklake-catalog' });
  work = await mkdtemp(path.join(tmpdir(), 'clicklake-moto-catalog-'));
  schemasDir = path.join(work, 'schemas');
  await cp(DEFAULT_SCHEMA_DIR, schemasDir, { recursive: true });
  for (const [k, v] of Object.entries({ AWS_ENDPOINT_URL: moto.endpoint, AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'motokey', AWS_SECRET_ACCESS_KEY: 'motosecret', AWS_PROFILE: '', AWS_CONFIG_FILE: '/dev/null', AWS_SHARED_CREDENTIALS_FILE: '/dev/null' })) vi.stubEnv(k, v);
});
afterAll(async () => {
  vi.unstubAllEnvs();
  await moto?.close();
  if (work) await rm(work, { recursive: true, force: true });
});

const planArgs = () => ['--bucket', moto.bucket, '--schemas', schemasDir];

describe.skipIf(skip)('catalog and views on moto_server', () => {
  it('plans, applies, and then finds nothing to do; a new column plans and applies as additive', async () => {
    const plan = await runCli(['catalog', 'plan', ...planArgs()], work);
    expect(plan.code, plan.stderr).toBe(2);
    expect(plan.stdout).toContain('+ create database clicklake');
    expect(plan.stdout).toContain('+ create table clicklake.click_events (');
    const apply = await runCli(['catalog', 'apply', ...planArgs()], work);
    expect(apply.code, apply.stderr + apply.stdout).toBe(0);
    const glue = new GlueClient(clientConfig());
    const tables = await glue.send(new GetTablesCommand({ DatabaseName: 'clicklake' }));
    expect(tables.TableList?.map((t) => t.Name).sort()).toEqual(['click_events', 'click_events_raw']);
    const again = await runCli(['catalog', 'plan', ...planArgs()], work);
    expect(again.code, again.stdout).toBe(0);
    expect(again.stdout).toContain('No changes');

    const file = path.join(schemasDir, 'click_event.schema.json');
    const schema = JSON.parse(await readFile(file, 'utf8')) as { properties: Record<string, unknown> };
    schema.properties['coupon_code'] = { type: ['string', 'null'], description: 'Promotion code typed on the menu.' };
    await writeFile(file, JSON.stringify(schema, null, 2));
    const grown = await runCli(['catalog', 'plan', ...planArgs()], work);
    expect(grown.code).toBe(2);
    expect(grown.stdout).toContain('~ add columns to clicklake.click_events: coupon_code string');
    expect((await runCli(['catalog', 'apply', ...planArgs()], work)).code).toBe(0);
    const settled = await runCli(['catalog', 'plan', ...planArgs()], work);
    expect(settled.code, settled.stdout).toBe(0);
    glue.destroy();
  });

  it('submits every curated view to Athena, and moto records each as succeeded', async () => {
    const run = await runCli(['views', 'apply', '--athena', '--output-location', `s3://${moto.bucket}/athena/`], work);
    expect(run.code, run.stderr).toBe(0);
    const athena = new AthenaClient(clientConfig());
    const ids = (await athena.send(new ListQueryExecutionsCommand({}))).QueryExecutionIds ?? [];
    // moto has no BatchGetQueryExecution: one GetQueryExecution per id.
    const executions = await Promise.all(ids.map(async (QueryExecutionId) => (await athena.send(new GetQueryExecutionCommand({ QueryExecutionId }))).QueryExecution!));
    const views = await loadViews();
    const submitted = executions.filter((e) => /CREATE OR REPLACE VIEW/i.test(e.Query ?? ''));
    expect(submitted.map((e) => e.Status?.State)).toEqual(views.map(() => 'SUCCEEDED'));
    expect(submitted.map((e) => e.Query).sort()).toEqual(views.map((v) => v.sql).sort());
    athena.destroy();
  });
});

describe.skipIf(skip)('partitions sync on moto_server', () => {
  it('registers every curated dt the manifests name in moto Glue, then finds them all registered', async () => {
    const dir = await mkdtemp(path.join(work, 'sync-'));
    await writeFile(path.join(dir, 'clicklake.config.json'), JSON.stringify({ lake: `s3://${moto.bucket}/synced`, database: 'synced', projection: false }));
    const lake = await writeSyntheticLake({ store: openStore(`s3://${moto.bucket}/synced`, { s3Client: moto.client }), table: 'click_events', seed: 2, events: 800, startDate: '2024-05-06', days: 2 });
    const compact = await runCli(['compact', '--all', '--now', new Date(lake.lastArrivalMs + 3 * 3_600_000).toISOString(), '--json'], dir);
    expect(compact.code, compact.stderr).toBe(0);
    expect((await runCli(['catalog', 'apply'], dir)).code).toBe(0);
    const first = await runCli(['partitions', 'sync', '--json'], dir);
    expect(first.code, first.stderr).toBe(0);
    const glue = new GlueClient(clientConfig());
    const partitions = (await glue.send(new GetPartitionsCommand({ DatabaseName: 'synced', TableName: 'click_events' }))).Partitions ?? [];
    const dts = (await curatedDts(moto, 'synced')).sort();
    expect(partitions.map((p) => p.Values![0]).sort()).toEqual(dts);
    expect(dts.length).toBeGreaterThanOrEqual(2);
    for (const p of partitions) expect(p.StorageDescriptor?.Location).toBe(`s3://${moto.bucket}/synced/curated/click_events/dt=${p.Values![0]}/`);
    const again = await runCli(['partitions', 'sync', '--json'], dir);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/"created": \[\]/);
    glue.destroy();
  });
});

/** The dt partitions the curated zone holds. */
async function curatedDts(server: ThirdPartyS3, prefix: string): Promise<string[]> {
  const store = openStore(`s3://${server.bucket}/${prefix}`, { s3Client: server.client });
  const dts: string[] = [];
  for await (const o of store.list('curated/click_events/')) dts.push(/dt=([^/]+)\//.exec(o.key)![1]!);
  return [...new Set(dts)];
}

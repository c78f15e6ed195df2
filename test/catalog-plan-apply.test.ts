import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TableInput } from '@aws-sdk/client-glue';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { applyCatalogPlan } from '../src/catalog/apply.js';
import type { CatalogChange } from '../src/catalog/changes.js';
import { readLiveCatalog } from '../src/catalog/glue-live.js';
import { buildPlan, desiredCatalog, planCatalog, type DesiredCatalog, type LiveCatalog } from '../src/catalog/plan.js';
import type { CatalogTarget } from '../src/catalog/table-input.js';
import { DEFAULT_SCHEMA_DIR, loadSchemas } from '../src/schema/load.js';
import { startFakeGlue, type FakeGlue } from './support/fake-glue.js';
import { runCli } from './support/cli.js';

const DB = 'clicklake';
const BUCKET = 'lake-bucket';
const TARGET: CatalogTarget = { bucket: BUCKET };

/** A live catalog snapshot built by hand: the given definitions at the given version. */
function snapshot(inputs: TableInput[], versionId = '0'): LiveCatalog {
  return { database: DB, exists: true, tables: Object.fromEntries(inputs.map((input) => [input.Name!, { versionId, input: structuredClone(input) }])) };
}

const EMPTY: LiveCatalog = { database: DB, exists: false, tables: {} };

async function desiredFrom(schemasDir: string): Promise<DesiredCatalog> {
  return desiredCatalog(await loadSchemas(schemasDir), { database: DB, target: TARGET });
}

let glue: FakeGlue;
let work: string;
let schemasDir: string;

beforeEach(async () => {
  glue = await startFakeGlue({ pageSize: 1 });
  vi.stubEnv('AWS_ENDPOINT_URL_GLUE', glue.endpoint);
  vi.stubEnv('AWS_REGION', 'us-east-1');
  vi.stubEnv('AWS_ACCESS_KEY_ID', 'AKIDTEST');
  vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'test-secret');
  work = await mkdtemp(path.join(tmpdir(), 'clicklake-catalog-'));
  schemasDir = path.join(work, 'schemas');
  await cp(DEFAULT_SCHEMA_DIR, schemasDir, { recursive: true });
});

afterEach(async () => {
  vi.unstubAllEnvs();
  await glue.close();
  await rm(work, { recursive: true, force: true });
});

/** Edits the copied click event schema. */
async function editSchema(edit: (schema: any) => void): Promise<void> {
  const file = path.join(schemasDir, 'click_event.schema.json');
  const schema = JSON.parse(await readFile(file, 'utf8'));
  edit(schema);
  await writeFile(file, JSON.stringify(schema, null, 2));
}

/** The changes planned against the fake Glue, read through the real SDK client. */
async function planAgainstFake(desired: DesiredCatalog): Promise<CatalogChange[]> {
  const live = await readLiveCatalog(glue.client(), DB, desired.tables.map((t) => t.Name!));
  return planCatalog(desired, live);
}

const planArgs = (): string[] => ['--bucket', BUCKET, '--schemas', schemasDir];
const updateTableCalls = (): any[] => glue.calls.filter((c) => c.operation === 'UpdateTable').map((c) => c.input);

describe('catalog plan / apply against Glue', () => {
  it('creates the database and two tables per schema, then has nothing left to do', async () => {
    const desired = await desiredFrom(schemasDir);
    const specs = await loadSchemas(schemasDir);
    const pure = planCatalog(desired, EMPTY);
    expect(pure.map((c) => c.type)).toEqual(['create_database', ...specs.flatMap(() => ['create_table', 'create_table'])]);
    expect(pure.filter((c) => c.type === 'create_table').map((c) => (c as { table: string }).table)).toEqual(specs.flatMap((s) => [`${s.name}_raw`, s.name]));
    expect(await planAgainstFake(desired)).toEqual(pure);

    const plan = await runCli(['catalog', 'plan', ...planArgs()], work);
    expect(plan.stderr).toBe('');
    expect(plan.code).toBe(2);
    expect(plan.stdout).toContain(`+ create database ${DB}`);
    expect(plan.stdout).toContain(`+ create table ${DB}.click_events_raw`);
    expect(plan.stdout).toContain(`+ create table ${DB}.click_events (`);
    expect(glue.calls.some((c) => c.operation.startsWith('Create'))).toBe(false);

    const apply = await runCli(['catalog', 'apply', ...planArgs()], work);
    expect(apply.stderr).toBe('');
    expect(apply.code).toBe(0);
    expect(apply.stdout).toMatch(/Apply: 3 applied, 0 failed, 0 not executed\./);
    const created = glue.calls.filter((c) => c.operation === 'CreateTable').map((c) => c.input);
    expect(created).toEqual(desired.tables.map((t) => ({ DatabaseName: DB, TableInput: t })));
    expect([...glue.state.tables.get(DB)!.keys()].sort()).toEqual(desired.tables.map((t) => t.Name).sort());

    expect(await planAgainstFake(desired)).toEqual([]);
    expect(planCatalog(desired, snapshot(desired.tables))).toEqual([]);
    const again = await runCli(['catalog', 'plan', ...planArgs()], work);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('No changes');
  });

  it('plans an added column as additive add_columns and applies it with the planned VersionId', async () => {
    const before = await desiredFrom(schemasDir);
    expect((await runCli(['catalog', 'apply', ...planArgs()], work)).code).toBe(0);
    await editSchema((s) => {
      s.properties.coupon_code = { type: ['string', 'null'], description: 'Promotion code typed on the menu.' };
    });
    const after = await desiredFrom(schemasDir);

    const pure = planCatalog(after, snapshot(before.tables));
    expect(pure.map((c) => [c.type, (c as { table: string }).table, c.breaking, c.versionId])).toEqual([
      ['add_columns', 'click_events_raw', false, '0'],
      ['add_columns', 'click_events', false, '0'],
    ]);
    const added = pure[1] as Extract<CatalogChange, { type: 'add_columns' }>;
    expect(added.columns.map((c) => c.column)).toEqual([{ Name: 'coupon_code', Type: 'string', Comment: 'Promotion code typed on the menu.' }]);
    expect(added.columns[0]!.after).toBe(after.tables[1]!.StorageDescriptor!.Columns!.at(-2)!.Name);
    expect(await planAgainstFake(after)).toEqual(pure);

    const plan = await runCli(['catalog', 'plan', ...planArgs()], work);
    expect(plan.code).toBe(2);
    expect(plan.stdout).toContain(`~ add columns to ${DB}.click_events: coupon_code string`);
    expect(plan.stdout).not.toContain('breaking:');

    const apply = await runCli(['catalog', 'apply', ...planArgs()], work);
    expect(apply.code).toBe(0);
    expect(updateTableCalls()).toEqual(after.tables.map((t) => ({ DatabaseName: DB, TableInput: t, VersionId: '0' })));
    expect(glue.state.tables.get(DB)!.get('click_events')!.VersionId).toBe('1');
    expect(await planAgainstFake(after)).toEqual([]);
    expect((await runCli(['catalog', 'plan', ...planArgs()], work)).code).toBe(0);
  });

  it('plans a type change as breaking and refuses to apply it without --allow-breaking', async () => {
    const before = await desiredFrom(schemasDir);
    expect((await runCli(['catalog', 'apply', ...planArgs()], work)).code).toBe(0);
    await editSchema((s) => {
      s.properties.item_name = { type: ['integer', 'null'], minimum: 0, maximum: 1000 };
    });
    const after = await desiredFrom(schemasDir);

    const pure = planCatalog(after, snapshot(before.tables));
    expect(pure).toEqual([
      { type: 'change_column_type', database: DB, table: 'click_events_raw', column: 'item_name', from: 'string', to: 'int', breaking: true, versionId: '0' },
      { type: 'change_column_type', database: DB, table: 'click_events', column: 'item_name', from: 'string', to: 'int', breaking: true, versionId: '0' },
    ]);
    expect(await planAgainstFake(after)).toEqual(pure);

    const plan = await runCli(['catalog', 'plan', ...planArgs()], work);
    expect(plan.code).toBe(2);
    expect(plan.stdout).toContain(`! breaking: change column type ${DB}.click_events.item_name: string -> int`);

    const refused = await runCli(['catalog', 'apply', ...planArgs()], work);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('--allow-breaking');
    expect(refused.stdout).toContain('notExecuted');
    expect(updateTableCalls()).toEqual([]);

    const allowed = await runCli(['catalog', 'apply', '--allow-breaking', ...planArgs()], work);
    expect(allowed.code).toBe(0);
    expect(updateTableCalls().map((c) => c.TableInput)).toEqual(after.tables);
    expect(await planAgainstFake(after)).toEqual([]);
  });

  it('int -> bigint widens without breaking', async () => {
    const before = await desiredFrom(schemasDir);
    await editSchema((s) => {
      delete s.properties.section_index.maximum;
    });
    const after = await desiredFrom(schemasDir);
    const changes = planCatalog(after, snapshot(before.tables));
    expect(changes.map((c) => [c.type, c.breaking, (c as { from?: string }).from, (c as { to?: string }).to])).toEqual([
      ['change_column_type', false, 'int', 'bigint'],
      ['change_column_type', false, 'int', 'bigint'],
    ]);
  });

  it('stops at a ConcurrentModificationException, reports what was applied, and applies nothing half', async () => {
    const before = await desiredFrom(schemasDir);
    expect((await runCli(['catalog', 'apply', ...planArgs()], work)).code).toBe(0);
    await editSchema((s) => {
      s.properties.coupon_code = { type: ['string', 'null'] };
    });
    const after = await desiredFrom(schemasDir);
    const client = glue.client();
    const live = await readLiveCatalog(client, DB, after.tables.map((t) => t.Name!));
    const plan = buildPlan(after, live, { now: new Date('2024-05-01T00:00:00Z') });
    expect(plan.changes).toEqual(planCatalog(after, snapshot(before.tables)));

    glue.touchTable(DB, 'click_events'); // someone else updates the curated table after the plan
    const outcome = await applyCatalogPlan(client, plan, { verifyPlan: false });
    expect(outcome.error?.code).toBe('catalog_changed_concurrently');
    expect(outcome.error?.message).toContain('clicklake catalog plan');
    expect(outcome.error?.message).toContain('already applied: clicklake.click_events_raw');
    expect(outcome.results.map((r) => [(r.change as { table: string }).table, r.status])).toEqual([
      ['click_events_raw', 'applied'],
      ['click_events', 'failed'],
    ]);
    const curated = glue.state.tables.get(DB)!.get('click_events')!;
    expect(curated.VersionId).toBe('1'); // only the concurrent touch
    expect(curated.StorageDescriptor.Columns.map((c: { Name: string }) => c.Name)).not.toContain('coupon_code');
    expect(glue.state.tables.get(DB)!.get('click_events_raw')!.StorageDescriptor.Columns.map((c: { Name: string }) => c.Name)).toContain('coupon_code');

    // The same plan, checked first (the default), is refused as a whole.
    const checked = await applyCatalogPlan(client, plan);
    expect(checked.error?.code).toBe('plan_stale');
    expect(checked.results.every((r) => r.status === 'notExecuted')).toBe(true);
  });

  it('refuses a saved plan whose VersionIds are stale, and applies a fresh one exactly', async () => {
    expect((await runCli(['catalog', 'apply', ...planArgs()], work)).code).toBe(0);
    await editSchema((s) => {
      s.properties.coupon_code = { type: ['string', 'null'] };
    });
    const planFile = path.join(work, 'plan.json');
    expect((await runCli(['catalog', 'plan', ...planArgs(), '--out', planFile], work)).code).toBe(2);
    const saved = JSON.parse(await readFile(planFile, 'utf8'));
    expect(saved.changes.map((c: CatalogChange) => c.versionId)).toEqual(['0', '0']);

    const withFlags = await runCli(['catalog', 'apply', planFile, '--bucket', BUCKET], work);
    expect(withFlags.code).toBe(1);
    expect(withFlags.stderr).toContain('--bucket');

    glue.touchTable(DB, 'click_events_raw');
    const stale = await runCli(['catalog', 'apply', planFile], work);
    expect(stale.code).toBe(1);
    expect(stale.stderr).toContain('the plan is out of date (table clicklake.click_events_raw is at version 1, the plan was made against version 0)');
    expect(updateTableCalls()).toEqual([]);

    expect((await runCli(['catalog', 'plan', ...planArgs(), '--out', planFile], work)).code).toBe(2);
    const dry = await runCli(['catalog', 'apply', planFile, '--dry-run'], work);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain('UpdateTable {');
    expect(dry.stdout).toContain('"VersionId": "1"');
    expect(updateTableCalls()).toEqual([]);

    const applied = await runCli(['catalog', 'apply', planFile], work);
    expect(applied.code).toBe(0);
    expect(updateTableCalls().map((c) => c.VersionId)).toEqual(['1', '0']);
    expect((await runCli(['catalog', 'plan', ...planArgs()], work)).code).toBe(0);
  });

  it('retries a throttled UpdateTable', async () => {
    expect((await runCli(['catalog', 'apply', ...planArgs()], work)).code).toBe(0);
    await editSchema((s) => {
      s.properties.coupon_code = { type: ['string', 'null'] };
    });
    glue.failNext('UpdateTable', 'ThrottlingException', undefined, 2);
    const apply = await runCli(['catalog', 'apply', ...planArgs()], work);
    expect(apply.stderr).toBe('');
    expect(apply.code).toBe(0);
    expect(updateTableCalls().map((c) => c.TableInput.Name)).toEqual(['click_events_raw', 'click_events_raw', 'click_events_raw', 'click_events']);
    expect(updateTableCalls().map((c) => c.VersionId)).toEqual(['0', '0', '0', '0']);
  });

  it('plans a renamed column as drop + add unless a rename is declared', async () => {
    const before = await desiredFrom(schemasDir);
    expect((await runCli(['catalog', 'apply', ...planArgs()], work)).code).toBe(0);
    await editSchema((s) => {
      s.properties.dish_name = s.properties.item_name;
      delete s.properties.item_name;
    });
    const after = await desiredFrom(schemasDir);
    const pure = planCatalog(after, snapshot(before.tables));
    expect(pure.filter((c) => (c as { table?: string }).table === 'click_events').map((c) => [c.type, c.breaking])).toEqual([
      ['drop_column', true],
      ['add_columns', false],
    ]);
    expect(await planAgainstFake(after)).toEqual(pure);

    const plan = await runCli(['catalog', 'plan', ...planArgs(), '--rename', 'click_events.item_name=dish_name', '--json'], work);
    expect(plan.code).toBe(2);
    const changes = JSON.parse(plan.stdout).changes as CatalogChange[];
    expect(changes.map((c) => [c.type, (c as { table: string }).table])).toEqual([
      ['drop_column', 'click_events_raw'],
      ['add_columns', 'click_events_raw'],
      ['rename_column', 'click_events'],
    ]);
    const apply = await runCli(['catalog', 'apply', '--allow-breaking', ...planArgs(), '--rename', 'click_events.item_name=dish_name'], work);
    expect(apply.code).toBe(0);
    // A rename keeps the column's place: the old name is replaced where it stood.
    const curatedCall = updateTableCalls().find((c) => c.TableInput.Name === 'click_events');
    const renamedInPlace = before.tables[1]!.StorageDescriptor!.Columns!.map((c) => (c.Name === 'item_name' ? { ...c, Name: 'dish_name' } : c));
    expect(curatedCall.TableInput.StorageDescriptor.Columns).toEqual(renamedInPlace);
    expect(await planAgainstFake(after)).toEqual([]);
  });

  it('keeps parameters Glue or others added, and restores drifted projection properties', async () => {
    const desired = await desiredFrom(schemasDir);
    expect((await runCli(['catalog', 'apply', ...planArgs()], work)).code).toBe(0);
    const curated = glue.state.tables.get(DB)!.get('click_events')!;
    curated.Parameters = { ...curated.Parameters, transient_lastDdlTime: '1714521600', 'projection.dt.range': '2020-01-01,NOW' };
    const drifted = snapshot(desired.tables);
    drifted.tables.click_events!.input.Parameters = { ...curated.Parameters };
    const pure = planCatalog(desired, drifted);
    expect(pure).toEqual([
      {
        type: 'update_table_properties',
        database: DB,
        table: 'click_events',
        properties: [{ field: 'Parameters', key: 'projection.dt.range', from: '2020-01-01,NOW', to: desired.tables[1]!.Parameters!['projection.dt.range'] }],
        breaking: false,
        versionId: '0',
      },
    ]);
    expect(await planAgainstFake(desired)).toEqual(pure);
    const plan = await runCli(['catalog', 'plan', ...planArgs()], work);
    expect(plan.stdout).toContain('Parameters["projection.dt.range"]: "2020-01-01,NOW" -> "2024-01-01,NOW"');
    expect((await runCli(['catalog', 'apply', ...planArgs()], work)).code).toBe(0);
    expect(updateTableCalls()[0].TableInput.Parameters).toEqual({ ...desired.tables[1]!.Parameters, transient_lastDdlTime: '1714521600' });
    expect(await planAgainstFake(desired)).toEqual([]);
  });
});

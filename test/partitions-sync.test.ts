import { BatchCreatePartitionCommand, CreateDatabaseCommand, CreateTableCommand, type GlueClient } from '@aws-sdk/client-glue';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { GLUE_BATCH_CREATE_PARTITION_MAX, syncPartitions } from '../src/catalog/partitions-sync.js';
import { desiredCatalog } from '../src/catalog/plan.js';
import { main } from '../src/cli/main.js';
import { manifestKey, DEFAULT_LAYOUT } from '../src/partitions/layout.js';
import { DAY_MS, HOUR_MS } from '../src/partitions/hours.js';
import { loadSchemas } from '../src/schema/load.js';
import { openStore } from '../src/storage/open.js';
import type { ObjectStore } from '../src/storage/types.js';
import { startFakeGlue, type FakeGlue } from './support/fake-glue.js';
import { startTestS3, type TestS3 } from './support/s3-server.js';

const DB = 'clicklake';
const TABLE = 'click_events';
const START = Date.UTC(2024, 0, 1);
const dtOf = (day: number): string => new Date(START + day * DAY_MS).toISOString().slice(0, 10);

let s3: TestS3;
let glue: FakeGlue;
let store: ObjectStore;

beforeAll(async () => {
  s3 = await startTestS3({ prefix: 'lake' });
  store = openStore(s3.uri, { s3Client: s3.client });
  // 120 units; unit i wrote day i and day i + 100: 220 distinct dt partitions, more than two batches.
  for (let i = 0; i < 120; i++) {
    const hour = START + i * DAY_MS + 5 * HOUR_MS;
    const outputs = [i, i + 100].map((day) => ({ key: `curated/${TABLE}/dt=${dtOf(day)}/x.parquet`, dt: dtOf(day), rows: 1, bytes: 1, etag: 'e' }));
    await store.put(manifestKey(DEFAULT_LAYOUT, TABLE, hour), JSON.stringify({ version: 1, table: TABLE, outputs }));
  }
  await store.put(`_manifests/${TABLE}/README.txt`, 'not a manifest: ignored');
}, 120_000);

afterAll(async () => {
  await s3?.close();
});

beforeEach(async () => {
  await glue?.close();
  glue = await startFakeGlue();
  const desired = desiredCatalog(await loadSchemas(), { database: DB, target: { bucket: s3.bucket, rootPrefix: 'lake' }, projection: false });
  const client = glue.client();
  await client.send(new CreateDatabaseCommand({ DatabaseInput: desired.database }));
  for (const table of desired.tables) await client.send(new CreateTableCommand({ DatabaseName: DB, TableInput: table }));
});

const batchCalls = (): any[] => glue.calls.filter((c) => c.operation === 'BatchCreatePartition').map((c) => c.input);
const allDts = Array.from({ length: 220 }, (_, day) => dtOf(day));

describe('partitions sync', () => {
  it('registers every manifest dt in chunks of 100 with the table storage descriptor, and is idempotent', async () => {
    const first = await syncPartitions({ glue: glue.client(), store, layout: DEFAULT_LAYOUT, database: DB, table: TABLE });
    expect(first.manifests).toBe(120);
    expect(first.dts).toEqual(allDts);
    expect(first.created).toEqual(allDts);
    expect(first.failed).toEqual([]);
    expect(first.projectionEnabled).toBe(false);
    expect(batchCalls().map((c) => c.PartitionInputList.length)).toEqual([GLUE_BATCH_CREATE_PARTITION_MAX, GLUE_BATCH_CREATE_PARTITION_MAX, 20]);

    const table = glue.state.tables.get(DB)!.get(TABLE)!;
    const partition = glue.state.partitions.get(DB)!.get(TABLE)!.get(JSON.stringify([dtOf(3)]))!;
    expect(partition.StorageDescriptor).toEqual({ ...table.StorageDescriptor, Location: `s3://${s3.bucket}/lake/curated/${TABLE}/dt=${dtOf(3)}/` });
    expect(glue.state.partitions.get(DB)!.get(TABLE)!.size).toBe(220);

    const second = await syncPartitions({ glue: glue.client(), store, layout: DEFAULT_LAYOUT, database: DB, table: TABLE });
    expect(second.created).toEqual([]);
    expect(second.alreadyRegistered).toBe(220);
    expect(batchCalls()).toHaveLength(3);
  });

  it('counts AlreadyExists answers from a concurrent sync as registered', async () => {
    const client = glue.client();
    const other = glue.client();
    let raced = false;
    // Another sync registers two partitions between our listing and our first batch.
    const racing = {
      send: async (command: any) => {
        if (command instanceof BatchCreatePartitionCommand && !raced) {
          raced = true;
          await other.send(new BatchCreatePartitionCommand({ ...command.input, PartitionInputList: command.input.PartitionInputList!.slice(0, 2) }));
        }
        return client.send(command);
      },
    } as Pick<GlueClient, 'send'>;
    const result = await syncPartitions({ glue: racing, store, layout: DEFAULT_LAYOUT, database: DB, table: TABLE });
    expect(result.failed).toEqual([]);
    expect(result.alreadyRegistered).toBe(2);
    expect(result.created).toEqual(allDts.slice(2));
  });

  it('reports other per-partition errors without stopping (CLI, exit 1)', async () => {
    // A table whose partition keys no longer match the one value per dt: Glue refuses each partition.
    glue.state.tables.get(DB)!.get(TABLE)!.PartitionKeys = [{ Name: 'dt', Type: 'string' }, { Name: 'hour', Type: 'string' }];
    vi.stubEnv('AWS_ENDPOINT_URL_GLUE', glue.endpoint);
    vi.stubEnv('AWS_ENDPOINT_URL_S3', s3.endpoint);
    vi.stubEnv('AWS_REGION', 'us-east-1');
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'S3RVER');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'S3RVER');
    let stdout = '';
    let stderr = '';
    try {
      const code = await main(['partitions', 'sync', '--lake', s3.uri, '--table', TABLE], {
        stdout: { write: (s: string) => (stdout += s) },
        stderr: { write: (s: string) => (stderr += s) },
        env: {},
        cwd: process.cwd(),
      });
      expect(code).toBe(1);
    } finally {
      vi.unstubAllEnvs();
    }
    expect(stdout).toContain(`${TABLE}: 120 manifest(s), 220 dt partition(s): 0 registered, 0 already registered, 220 failed (3 BatchCreatePartition call(s))`);
    expect(stdout).toContain(`failed dt=${dtOf(0)}: InvalidInputException: The number of partition keys do not match the number of partition values`);
    expect(stderr).toContain('220 partition(s) could not be registered');
  });

  it('syncs from the CLI against S3 and Glue endpoints taken from the environment', async () => {
    vi.stubEnv('AWS_ENDPOINT_URL_GLUE', glue.endpoint);
    vi.stubEnv('AWS_ENDPOINT_URL_S3', s3.endpoint);
    vi.stubEnv('AWS_REGION', 'us-east-1');
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'S3RVER');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'S3RVER');
    const run = async (): Promise<{ code: number; stdout: string }> => {
      let stdout = '';
      const code = await main(['partitions', 'sync', '--lake', s3.uri, '--json'], { stdout: { write: (s: string) => (stdout += s) }, stderr: { write: () => true }, env: {}, cwd: process.cwd() });
      return { code, stdout };
    };
    try {
      const first = await run();
      expect(first.code).toBe(0);
      expect(JSON.parse(first.stdout)[0].created).toHaveLength(220);
      const second = await run();
      expect(second.code).toBe(0);
      expect(JSON.parse(second.stdout)[0]).toMatchObject({ created: [], alreadyRegistered: 220, batches: 0 });
    } finally {
      vi.unstubAllEnvs();
    }
  });
});

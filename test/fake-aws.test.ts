import {
  GetQueryExecutionCommand,
  GetQueryResultsCommand,
  paginateGetQueryResults,
  StartQueryExecutionCommand,
  StopQueryExecutionCommand,
  type AthenaClient,
  type Row,
} from '@aws-sdk/client-athena';
import {
  BatchCreatePartitionCommand,
  CreateDatabaseCommand,
  CreateTableCommand,
  DeleteTableCommand,
  GetDatabaseCommand,
  GetDatabasesCommand,
  GetPartitionsCommand,
  GetTableCommand,
  GetTablesCommand,
  paginateGetTables,
  UpdateTableCommand,
  type GlueClient,
  type PartitionInput,
  type TableInput,
} from '@aws-sdk/client-glue';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startFakeAthena, type FakeAthena } from './support/fake-athena.js';
import { startFakeGlue, type FakeGlue } from './support/fake-glue.js';

/** Runs `fn` and returns what it threw (fails the test if it did not throw). */
async function thrown(fn: () => Promise<unknown>): Promise<any> {
  try {
    await fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected the call to throw');
}

function tableInput(name: string, overrides: Partial<TableInput> = {}): TableInput {
  return {
    Name: name,
    TableType: 'EXTERNAL_TABLE',
    Parameters: { classification: 'parquet' },
    StorageDescriptor: {
      Columns: [
        { Name: 'event_id', Type: 'string' },
        { Name: 'price_cents', Type: 'int', Comment: 'menu price' },
      ],
      Location: `s3://lake/curated/${name}/`,
      SerdeInfo: { SerializationLibrary: 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe' },
    },
    PartitionKeys: [{ Name: 'dt', Type: 'string' }],
    ...overrides,
  };
}

function partition(dt: string): PartitionInput {
  return { Values: [dt], StorageDescriptor: { Location: `s3://lake/curated/t/dt=${dt}/` } };
}

describe('fake Glue through the real GlueClient', () => {
  let glue: FakeGlue;
  let client: GlueClient;

  beforeEach(async () => {
    glue = await startFakeGlue({ pageSize: 2 });
    client = glue.client();
  });
  afterEach(async () => {
    await glue.close();
  });

  async function createTable(db: string, name: string, overrides: Partial<TableInput> = {}): Promise<void> {
    await client.send(new CreateTableCommand({ DatabaseName: db, TableInput: tableInput(name, overrides) }));
  }

  it('creates a database and a table and returns them as GetTable / GetDatabase do', async () => {
    await client.send(new CreateDatabaseCommand({ DatabaseInput: { Name: 'Lake', Description: 'clickstream' } }));
    await createTable('lake', 'Click_Event');

    const { Database } = await client.send(new GetDatabaseCommand({ Name: 'LAKE' }));
    expect(Database?.Name).toBe('lake');
    expect(Database?.Description).toBe('clickstream');
    expect(Database?.CreateTime).toBeInstanceOf(Date);

    const { Table } = await client.send(new GetTableCommand({ DatabaseName: 'lake', Name: 'click_event' }));
    expect(Table?.Name).toBe('click_event');
    expect(Table?.DatabaseName).toBe('lake');
    expect(Table?.VersionId).toBe('0');
    expect(Table?.TableType).toBe('EXTERNAL_TABLE');
    expect(Table?.Parameters).toEqual({ classification: 'parquet' });
    expect(Table?.StorageDescriptor?.Columns).toEqual([
      { Name: 'event_id', Type: 'string' },
      { Name: 'price_cents', Type: 'int', Comment: 'menu price' },
    ]);
    expect(Table?.PartitionKeys).toEqual([{ Name: 'dt', Type: 'string' }]);
    expect(Table?.CreateTime).toBeInstanceOf(Date);
    expect(Math.abs(Table!.CreateTime!.getTime() - Date.now())).toBeLessThan(60_000);
    expect(Table?.UpdateTime?.getTime()).toBe(Table?.CreateTime?.getTime());
    expect(Table?.IsRegisteredWithLakeFormation).toBe(false);

    expect(glue.calls.map((c) => c.operation)).toEqual(['CreateDatabase', 'CreateTable', 'GetDatabase', 'GetTable']);
    expect(glue.calls[1]?.input).toEqual({ DatabaseName: 'lake', TableInput: tableInput('Click_Event') });
    expect(glue.state.tables.get('lake')?.has('click_event')).toBe(true);
  });

  it('answers missing databases and tables with EntityNotFoundException', async () => {
    await client.send(new CreateDatabaseCommand({ DatabaseInput: { Name: 'lake' } }));

    const noTable = await thrown(() => client.send(new GetTableCommand({ DatabaseName: 'lake', Name: 'nope' })));
    expect(noTable.name).toBe('EntityNotFoundException');
    expect(noTable.message).toBe('Table nope not found.');
    expect(noTable.$metadata.httpStatusCode).toBe(400);

    const noDb = await thrown(() => client.send(new GetTableCommand({ DatabaseName: 'nodb', Name: 'nope' })));
    expect(noDb.name).toBe('EntityNotFoundException');
    expect(noDb.message).toBe('Database nodb not found.');

    const createInMissingDb = await thrown(() => client.send(new CreateTableCommand({ DatabaseName: 'nodb', TableInput: tableInput('t') })));
    expect(createInMissingDb.name).toBe('EntityNotFoundException');

    const deleteMissing = await thrown(() => client.send(new DeleteTableCommand({ DatabaseName: 'lake', Name: 'nope' })));
    expect(deleteMissing.name).toBe('EntityNotFoundException');
  });

  it('refuses duplicates with AlreadyExistsException', async () => {
    await client.send(new CreateDatabaseCommand({ DatabaseInput: { Name: 'lake' } }));
    const dupDb = await thrown(() => client.send(new CreateDatabaseCommand({ DatabaseInput: { Name: 'LAKE' } })));
    expect(dupDb.name).toBe('AlreadyExistsException');
    expect(dupDb.message).toBe('Database already exists.');

    await createTable('lake', 't');
    const dupTable = await thrown(() => createTable('lake', 'T'));
    expect(dupTable.name).toBe('AlreadyExistsException');
    expect(dupTable.message).toBe('Table already exists.');
  });

  it('pages GetTables with NextToken, honouring MaxResults and Expression', async () => {
    await client.send(new CreateDatabaseCommand({ DatabaseInput: { Name: 'lake' } }));
    const names = ['d', 'b', 'e', 'a', 'c'];
    for (const name of names) await createTable('lake', name);
    glue.calls.length = 0;

    const pages: string[][] = [];
    for await (const page of paginateGetTables({ client }, { DatabaseName: 'lake' })) {
      pages.push((page.TableList ?? []).map((t) => t.Name!));
    }
    expect(pages).toEqual([['a', 'b'], ['c', 'd'], ['e']]);
    expect(glue.calls.map((c) => c.operation)).toEqual(['GetTables', 'GetTables', 'GetTables']);
    expect(glue.calls[0]?.input.NextToken).toBeUndefined();
    expect(typeof glue.calls[1]?.input.NextToken).toBe('string');

    const bigPages: number[] = [];
    for await (const page of paginateGetTables({ client, pageSize: 4 }, { DatabaseName: 'lake' })) bigPages.push(page.TableList!.length);
    expect(bigPages).toEqual([4, 1]);

    const filtered = await client.send(new GetTablesCommand({ DatabaseName: 'lake', Expression: 'a|d*', MaxResults: 100 }));
    expect(filtered.TableList?.map((t) => t.Name)).toEqual(['a', 'd']);

    const tooMany = await thrown(() => client.send(new GetTablesCommand({ DatabaseName: 'lake', MaxResults: 101 })));
    expect(tooMany.name).toBe('ValidationException');
    expect(tooMany.message).toContain("at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 100");

    const foreignToken = await thrown(() => client.send(new GetTablesCommand({ DatabaseName: 'lake', NextToken: 'bm90LWEtdG9rZW4' })));
    expect(foreignToken.name).toBe('InvalidInputException');
  });

  it('pages GetDatabases', async () => {
    for (const name of ['d1', 'd2', 'd3']) await client.send(new CreateDatabaseCommand({ DatabaseInput: { Name: name } }));
    const first = await client.send(new GetDatabasesCommand({}));
    expect(first.DatabaseList?.map((d) => d.Name)).toEqual(['d1', 'd2']);
    const second = await client.send(new GetDatabasesCommand({ NextToken: first.NextToken }));
    expect(second.DatabaseList?.map((d) => d.Name)).toEqual(['d3']);
    expect(second.NextToken).toBeUndefined();
  });

  it('UpdateTable checks VersionId: stale versions fail with ConcurrentModificationException', async () => {
    await client.send(new CreateDatabaseCommand({ DatabaseInput: { Name: 'lake' } }));
    await createTable('lake', 't');
    const before = (await client.send(new GetTableCommand({ DatabaseName: 'lake', Name: 't' }))).Table!;

    await client.send(
      new UpdateTableCommand({ DatabaseName: 'lake', VersionId: before.VersionId, TableInput: tableInput('t', { Parameters: { classification: 'json' } }) }),
    );
    const after = (await client.send(new GetTableCommand({ DatabaseName: 'lake', Name: 't' }))).Table!;
    expect(after.VersionId).toBe('1');
    expect(after.Parameters).toEqual({ classification: 'json' });
    expect(after.CreateTime?.getTime()).toBe(before.CreateTime?.getTime());
    expect(after.UpdateTime!.getTime()).toBeGreaterThanOrEqual(before.UpdateTime!.getTime());

    glue.touchTable('lake', 't');
    expect(glue.state.tables.get('lake')?.get('t')?.VersionId).toBe('2');

    const stale = await thrown(() => client.send(new UpdateTableCommand({ DatabaseName: 'lake', VersionId: '1', TableInput: tableInput('t') })));
    expect(stale.name).toBe('ConcurrentModificationException');
    expect(stale.message).toBe('Update table failed due to concurrent modifications.');
    expect(glue.state.tables.get('lake')?.get('t')?.Parameters).toEqual({ classification: 'json' });
    expect(glue.calls.filter((c) => c.operation === 'UpdateTable')).toHaveLength(2);

    await client.send(new UpdateTableCommand({ DatabaseName: 'lake', TableInput: tableInput('t') }));
    expect(glue.state.tables.get('lake')?.get('t')?.VersionId).toBe('3');

    const missing = await thrown(() => client.send(new UpdateTableCommand({ DatabaseName: 'lake', TableInput: tableInput('gone') })));
    expect(missing.name).toBe('EntityNotFoundException');
  });

  it('validates inputs like the service: name length 255, required members', async () => {
    const longName = 'x'.repeat(256);
    const tooLong = await thrown(() => client.send(new CreateDatabaseCommand({ DatabaseInput: { Name: longName } })));
    expect(tooLong.name).toBe('ValidationException');
    expect(tooLong.message).toBe(
      `1 validation error detected: Value '${longName}' at 'databaseInput.name' failed to satisfy constraint: Member must have length less than or equal to 255`,
    );
    await client.send(new CreateDatabaseCommand({ DatabaseInput: { Name: 'x'.repeat(255) } }));

    const missing = await thrown(() => client.send(new GetTableCommand({ DatabaseName: undefined, Name: 't' })));
    expect(missing.name).toBe('ValidationException');
    expect(missing.message).toBe("1 validation error detected: Value null at 'databaseName' failed to satisfy constraint: Member must not be null");

    await client.send(new CreateDatabaseCommand({ DatabaseInput: { Name: 'lake' } }));
    const badColumn = await thrown(() =>
      createTable('lake', 't', { StorageDescriptor: { Columns: [{ Name: 'ok', Type: 'string' }, { Name: '', Type: 'string' }] } }),
    );
    expect(badColumn.name).toBe('ValidationException');
    expect(badColumn.message).toContain("at 'tableInput.storageDescriptor.columns.2.member.name'");
  });

  it('retries a throttled call with the SDK standard retry strategy', async () => {
    await client.send(new CreateDatabaseCommand({ DatabaseInput: { Name: 'lake' } }));
    await createTable('lake', 't');
    glue.calls.length = 0;
    glue.failNext('GetTable', 'ThrottlingException');

    const { Table } = await client.send(new GetTableCommand({ DatabaseName: 'lake', Name: 't' }));
    expect(Table?.Name).toBe('t');
    expect(glue.calls.map((c) => c.operation)).toEqual(['GetTable', 'GetTable']);
  });

  it('gives up after maxAttempts on retryable errors and never retries ConcurrentModificationException', async () => {
    await client.send(new CreateDatabaseCommand({ DatabaseInput: { Name: 'lake' } }));
    glue.calls.length = 0;

    glue.failNext('GetDatabase', 'InternalServiceException', undefined, 10);
    const internal = await thrown(() => client.send(new GetDatabaseCommand({ Name: 'lake' })));
    expect(internal.name).toBe('InternalServiceException');
    expect(internal.$metadata.httpStatusCode).toBe(500);
    expect(internal.$metadata.attempts).toBe(4);
    expect(glue.calls.filter((c) => c.operation === 'GetDatabase')).toHaveLength(4);

    glue.failNext('CreateTable', 'ConcurrentModificationException');
    const conflict = await thrown(() => createTable('lake', 't'));
    expect(conflict.name).toBe('ConcurrentModificationException');
    expect(glue.calls.filter((c) => c.operation === 'CreateTable')).toHaveLength(1);
    await createTable('lake', 't');
    expect(glue.state.tables.get('lake')?.has('t')).toBe(true);
  });

  it('BatchCreatePartition reports existing partitions in Errors and caps the batch at 100', async () => {
    await client.send(new CreateDatabaseCommand({ DatabaseInput: { Name: 'lake' } }));
    await createTable('lake', 't');

    const first = await client.send(
      new BatchCreatePartitionCommand({ DatabaseName: 'lake', TableName: 't', PartitionInputList: [partition('2024-01-01'), partition('2024-01-02')] }),
    );
    expect(first.Errors).toBeUndefined();

    const second = await client.send(
      new BatchCreatePartitionCommand({
        DatabaseName: 'lake',
        TableName: 't',
        PartitionInputList: [partition('2024-01-02'), partition('2024-01-03'), { Values: ['2024-01-04', 'extra'] }],
      }),
    );
    expect(second.Errors).toEqual([
      { PartitionValues: ['2024-01-02'], ErrorDetail: { ErrorCode: 'AlreadyExistsException', ErrorMessage: 'Partition already exists.' } },
      {
        PartitionValues: ['2024-01-04', 'extra'],
        ErrorDetail: { ErrorCode: 'InvalidInputException', ErrorMessage: 'The number of partition keys do not match the number of partition values' },
      },
    ]);

    const hundredOne = Array.from({ length: 101 }, (_, i) => partition(`2023-01-${String(i).padStart(3, '0')}`));
    const tooMany = await thrown(() => client.send(new BatchCreatePartitionCommand({ DatabaseName: 'lake', TableName: 't', PartitionInputList: hundredOne })));
    expect(tooMany.name).toBe('ValidationException');
    expect(tooMany.message).toContain("'partitionInputList' failed to satisfy constraint: Member must have length less than or equal to 100");

    const missingTable = await thrown(() =>
      client.send(new BatchCreatePartitionCommand({ DatabaseName: 'lake', TableName: 'nope', PartitionInputList: [partition('2024-01-01')] })),
    );
    expect(missingTable.name).toBe('EntityNotFoundException');

    const page1 = await client.send(new GetPartitionsCommand({ DatabaseName: 'lake', TableName: 't' }));
    expect(page1.Partitions?.map((p) => p.Values)).toEqual([['2024-01-01'], ['2024-01-02']]);
    expect(page1.Partitions?.[0]?.CreationTime).toBeInstanceOf(Date);
    expect(page1.Partitions?.[0]?.StorageDescriptor?.Location).toBe('s3://lake/curated/t/dt=2024-01-01/');
    const page2 = await client.send(new GetPartitionsCommand({ DatabaseName: 'lake', TableName: 't', NextToken: page1.NextToken }));
    expect(page2.Partitions?.map((p) => p.Values)).toEqual([['2024-01-03']]);
    expect(page2.NextToken).toBeUndefined();

    const filtered = await client.send(new GetPartitionsCommand({ DatabaseName: 'lake', TableName: 't', Expression: "dt >= '2024-01-02'", MaxResults: 10 }));
    expect(filtered.Partitions?.map((p) => p.Values?.[0])).toEqual(['2024-01-02', '2024-01-03']);

    await client.send(new DeleteTableCommand({ DatabaseName: 'lake', Name: 't' }));
    expect(glue.state.partitions.get('lake')?.has('t')).toBe(false);
  });

  it('speaks awsJson1_1 on the wire: __type body and x-amzn-ErrorType header, unknown targets refused', async () => {
    const res = await fetch(glue.endpoint, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-amz-json-1.1', 'X-Amz-Target': 'AWSGlue.GetDatabase' },
      body: JSON.stringify({ Name: 'nope' }),
    });
    expect(res.status).toBe(400);
    expect(res.headers.get('x-amzn-errortype')).toBe('EntityNotFoundException');
    expect(await res.json()).toEqual({ __type: 'EntityNotFoundException', Message: 'Database nope not found.' });

    const unknown = await fetch(glue.endpoint, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-amz-json-1.1', 'X-Amz-Target': 'AWSGlue.StartCrawler' },
      body: '{}',
    });
    expect(unknown.status).toBe(400);
    expect(await unknown.json()).toEqual({ __type: 'UnknownOperationException' });
  });
});

describe('fake Athena through the real AthenaClient', () => {
  let athena: FakeAthena;
  let client: AthenaClient;

  beforeEach(async () => {
    athena = await startFakeAthena();
    client = athena.client();
  });
  afterEach(async () => {
    await athena.close();
  });

  async function state(id: string) {
    return (await client.send(new GetQueryExecutionCommand({ QueryExecutionId: id }))).QueryExecution!;
  }

  it('runs a query through QUEUED and RUNNING and pages its results, header row first', async () => {
    athena.onQuery((sql) =>
      sql.includes('dish_views')
        ? {
            state: 'SUCCEEDED',
            columns: [
              { name: 'item_id', type: 'varchar' },
              { name: 'views', type: 'bigint' },
            ],
            rows: [
              ['pho', '12'],
              ['banh-mi', '7'],
              ['goi-cuon', null],
              ['bun', '3'],
              ['che', '1'],
            ],
            dataScannedInBytes: 4096,
            pollsBeforeDone: 2,
          }
        : { state: 'SUCCEEDED' },
    );
    const { QueryExecutionId: id } = await client.send(
      new StartQueryExecutionCommand({
        QueryString: 'SELECT item_id, views FROM dish_views',
        WorkGroup: 'analysts',
        QueryExecutionContext: { Catalog: 'AwsDataCatalog', Database: 'lake' },
        ResultConfiguration: { OutputLocation: 's3://results/athena/' },
      }),
    );
    expect(id).toMatch(/^[0-9a-f-]{36}$/);

    const early = await thrown(() => client.send(new GetQueryResultsCommand({ QueryExecutionId: id })));
    expect(early.name).toBe('InvalidRequestException');
    expect(early.message).toBe('Query has not yet finished. Current state: QUEUED');
    expect(early.AthenaErrorCode).toBe('INVALID_QUERY_EXECUTION_STATE');

    expect((await state(id!)).Status?.State).toBe('QUEUED');
    expect((await state(id!)).Status?.State).toBe('RUNNING');
    const done = await state(id!);
    expect(done.Status?.State).toBe('SUCCEEDED');
    expect(done.Status?.CompletionDateTime).toBeInstanceOf(Date);
    expect(done.Statistics?.DataScannedInBytes).toBe(4096);
    expect(typeof done.Statistics?.EngineExecutionTimeInMillis).toBe('number');
    expect(done.WorkGroup).toBe('analysts');
    expect(done.StatementType).toBe('DML');
    expect(done.QueryExecutionContext).toEqual({ Catalog: 'awsdatacatalog', Database: 'lake' });
    expect(done.ResultConfiguration?.OutputLocation).toBe(`s3://results/athena/${id}.csv`);

    const start = athena.calls.find((c) => c.operation === 'StartQueryExecution')!;
    expect(start.input.WorkGroup).toBe('analysts');
    expect(start.input.QueryExecutionContext).toEqual({ Catalog: 'AwsDataCatalog', Database: 'lake' });
    expect(start.input.ResultConfiguration.OutputLocation).toBe('s3://results/athena/');
    expect(typeof start.input.ClientRequestToken).toBe('string');

    const pages: Row[][] = [];
    for await (const page of paginateGetQueryResults({ client, pageSize: 2 }, { QueryExecutionId: id })) {
      pages.push(page.ResultSet?.Rows ?? []);
      if (pages.length === 1) {
        expect(page.ResultSet?.ResultSetMetadata?.ColumnInfo?.map((c) => [c.Name, c.Type, c.Precision])).toEqual([
          ['item_id', 'varchar', 2147483647],
          ['views', 'bigint', 19],
        ]);
        expect(page.UpdateCount).toBe(0);
      }
    }
    // A full page always carries a NextToken, so five rows plus the header end with an empty page.
    expect(pages.map((p) => p.length)).toEqual([2, 2, 2, 0]);
    const values = pages.flat().map((row) => row.Data?.map((d) => d.VarCharValue ?? null));
    expect(values).toEqual([
      ['item_id', 'views'],
      ['pho', '12'],
      ['banh-mi', '7'],
      ['goi-cuon', null],
      ['bun', '3'],
      ['che', '1'],
    ]);
    expect(athena.calls.filter((c) => c.operation === 'GetQueryResults').map((c) => c.input.NextToken === undefined)).toEqual([true, true, false, false, false]);
  });

  it('reports FAILED with StateChangeReason and AthenaError, and refuses its results', async () => {
    const reason = "TABLE_NOT_FOUND: line 1:15: Table 'awsdatacatalog.lake.nope' does not exist";
    athena.onQuery(() => ({ state: 'FAILED', reason, errorType: 1301, pollsBeforeDone: 1 }));
    const { QueryExecutionId: id } = await client.send(new StartQueryExecutionCommand({ QueryString: 'SELECT * FROM nope' }));

    expect((await state(id!)).Status?.State).toBe('QUEUED');
    const failed = await state(id!);
    expect(failed.Status?.State).toBe('FAILED');
    expect(failed.Status?.StateChangeReason).toBe(reason);
    expect(failed.Status?.AthenaError).toEqual({ ErrorCategory: 2, ErrorType: 1301, Retryable: false, ErrorMessage: reason });
    expect(failed.WorkGroup).toBe('primary');
    expect(failed.QueryExecutionContext).toBeUndefined();

    const results = await thrown(() => client.send(new GetQueryResultsCommand({ QueryExecutionId: id })));
    expect(results.name).toBe('InvalidRequestException');
    expect(results.message).toBe('Query did not finish successfully. Final query state: FAILED');
    expect(results.AthenaErrorCode).toBe('INVALID_QUERY_EXECUTION_STATE');
  });

  it('cancels with StopQueryExecution', async () => {
    athena.onQuery(() => ({ state: 'SUCCEEDED', pollsBeforeDone: 5 }));
    const { QueryExecutionId: id } = await client.send(new StartQueryExecutionCommand({ QueryString: 'SELECT 1' }));
    await client.send(new StopQueryExecutionCommand({ QueryExecutionId: id }));
    const stopped = await state(id!);
    expect(stopped.Status?.State).toBe('CANCELLED');
    expect(stopped.Status?.StateChangeReason).toBe('Query cancelled by user');
    const results = await thrown(() => client.send(new GetQueryResultsCommand({ QueryExecutionId: id })));
    expect(results.message).toBe('Could not find results');
    expect(results.AthenaErrorCode).toBe('RESULT_NOT_FOUND');
  });

  it('answers invalid requests the way Athena does', async () => {
    const noSql = await thrown(() => client.send(new StartQueryExecutionCommand({ QueryString: undefined })));
    expect(noSql.name).toBe('InvalidRequestException');
    expect(noSql.message).toBe("1 validation error detected: Value null at 'queryString' failed to satisfy constraint: Member must not be null");
    expect(noSql.AthenaErrorCode).toBe('INVALID_INPUT');

    const unknown = await thrown(() => client.send(new GetQueryExecutionCommand({ QueryExecutionId: 'no-such-id' })));
    expect(unknown.message).toBe('QueryExecution no-such-id was not found');
    expect(unknown.AthenaErrorCode).toBe('QUERY_EXECUTION_NOT_FOUND');

    const { QueryExecutionId: id } = await client.send(new StartQueryExecutionCommand({ QueryString: 'SELECT 1' }));
    const tooBig = await thrown(() => client.send(new GetQueryResultsCommand({ QueryExecutionId: id, MaxResults: 1001 })));
    expect(tooBig.message).toBe('MaxResults is more than maximum allowed length 1000');
    const badToken = await thrown(() => client.send(new GetQueryResultsCommand({ QueryExecutionId: id, NextToken: 'garbage' })));
    expect(badToken.message).toBe('Malformed nextPageToken garbage');

    const token = 'c1ick1ake-idempotency-token-0000000001';
    const a = await client.send(new StartQueryExecutionCommand({ QueryString: 'SELECT 2', ClientRequestToken: token }));
    const b = await client.send(new StartQueryExecutionCommand({ QueryString: 'SELECT 2', ClientRequestToken: token }));
    expect(b.QueryExecutionId).toBe(a.QueryExecutionId);
    const mismatch = await thrown(() => client.send(new StartQueryExecutionCommand({ QueryString: 'SELECT 3', ClientRequestToken: token })));
    expect(mismatch.AthenaErrorCode).toBe('IDEMPOTENT_PARAMETER_MISMATCH');
  });

  it('needs an output location when the workgroup has none', async () => {
    const bare = await startFakeAthena({ workGroupOutputLocation: null });
    try {
      const err = await thrown(() => bare.client().send(new StartQueryExecutionCommand({ QueryString: 'SELECT 1' })));
      expect(err.name).toBe('InvalidRequestException');
      expect(err.message).toMatch(/^No output location provided\./);
    } finally {
      await bare.close();
    }
  });

  it('a throttled StartQueryExecution succeeds on retry and starts the query once', async () => {
    athena.failNext('StartQueryExecution', 'TooManyRequestsException');
    const { QueryExecutionId: id } = await client.send(new StartQueryExecutionCommand({ QueryString: 'SELECT 1' }));
    const starts = athena.calls.filter((c) => c.operation === 'StartQueryExecution');
    expect(starts).toHaveLength(2);
    expect(starts[1]?.input.ClientRequestToken).toBe(starts[0]?.input.ClientRequestToken);
    expect([...athena.executions.keys()]).toEqual([id]);
  });

  it('sends Athena errors without an x-amzn-errortype header, as the real service does', async () => {
    const res = await fetch(athena.endpoint, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-amz-json-1.1', 'X-Amz-Target': 'AmazonAthena.GetQueryExecution' },
      body: JSON.stringify({ QueryExecutionId: 'x' }),
    });
    expect(res.status).toBe(400);
    expect(res.headers.get('x-amzn-errortype')).toBeNull();
    expect(await res.json()).toEqual({
      __type: 'InvalidRequestException',
      AthenaErrorCode: 'QUERY_EXECUTION_NOT_FOUND',
      ErrorCode: 'QUERY_EXECUTION_NOT_FOUND',
      Message: 'QueryExecution x was not found',
    });
  });
});

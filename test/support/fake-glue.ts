import { GlueClient } from '@aws-sdk/client-glue';
import {
  AwsJsonError,
  ConstraintCheck,
  decodePageToken,
  encodePageToken,
  epochSeconds,
  fakeClientConfig,
  startAwsJsonServer,
  type RecordedCall,
} from './aws-json-server.js';

/**
 * A local AWS Glue Data Catalog endpoint for integration tests: the real `GlueClient` talks to it
 * over HTTP (awsJson1_1, `X-Amz-Target: AWSGlue.<Operation>`) and sees the real service's shapes.
 *
 * Behaviour taken from the Glue API reference and observed responses of the real service:
 * - database and table names are stored lowercase and looked up case-insensitively (Hive
 *   compatibility);
 * - a new table has `VersionId` "0"; every UpdateTable adds 1 (a string holding an integer);
 *   UpdateTable with a `VersionId` other than the current one fails with
 *   ConcurrentModificationException "Update table failed due to concurrent modifications.";
 * - missing entities: EntityNotFoundException "Database <name> not found." / "Table <name> not found.";
 *   duplicates: AlreadyExistsException "Database already exists." / "Table already exists.";
 * - model constraints (required members, name length 1..255, list sizes, MaxResults ranges) fail
 *   request validation with ValidationException "N validation error(s) detected: ...";
 * - BatchCreatePartition reports per-partition failures in `Errors` (the call itself succeeds),
 *   with `ErrorDetail.ErrorCode` AlreadyExistsException for partitions that already exist;
 * - timestamps travel as epoch seconds.
 * Not modelled: catalogs other than the account's, table versions (GetTableVersions), Lake
 * Formation, transactions, and the full GetPartitions expression grammar (see `partitionFilter`).
 *
 * Why it still exists beside moto_server (test/catalog-moto.test.ts runs plan / apply on moto's
 * Glue): moto cannot throttle, answer ConcurrentModificationException on a stale VersionId, page
 * by one, or fail one partition of a batch, and those are what the catalog tests here exercise.
 */

/** Glue's documented limits used by the fake. */
export const GLUE_FAKE_LIMITS = {
  nameLength: 255,
  getTablesMaxResults: 100,
  getDatabasesMaxResults: 100,
  getPartitionsMaxResults: 1000,
  batchCreatePartitionMax: 100,
  columnTypeLength: 131_072,
  commentLength: 255,
} as const;

/** Glue's single-line string pattern, as its validation errors print it. */
const SINGLE_LINE_TEXT = '[\\u0020-\\uD7FF\\uE000-\\uFFFD\\uD800\\uDC00-\\uDBFF\\uDFFF\\t]*';
const SINGLE_LINE = /^[\u0020-\uD7FF\uE000-\uFFFD\uD800-\uDFFF\t]*$/;

/** A database as GetDatabase returns it (wire form: timestamps in epoch seconds). */
export interface StoredDatabase {
  Name: string;
  CatalogId: string;
  CreateTime: number;
  Description?: string;
  LocationUri?: string;
  Parameters?: Record<string, string>;
  CreateTableDefaultPermissions: unknown[];
  [field: string]: unknown;
}

/** A table as GetTable returns it: everything from its TableInput plus the fields Glue adds. */
export interface StoredTable {
  Name: string;
  DatabaseName: string;
  CatalogId: string;
  CreateTime: number;
  UpdateTime: number;
  VersionId: string;
  Retention: number;
  CreatedBy: string;
  IsRegisteredWithLakeFormation: boolean;
  IsMultiDialectView: boolean;
  TableType?: string;
  Parameters?: Record<string, string>;
  StorageDescriptor?: any;
  PartitionKeys?: Array<{ Name: string; Type?: string; Comment?: string }>;
  [field: string]: unknown;
}

/** A partition as GetPartitions returns it. */
export interface StoredPartition {
  Values: string[];
  DatabaseName: string;
  TableName: string;
  CatalogId: string;
  CreationTime: number;
  StorageDescriptor?: any;
  Parameters?: Record<string, string>;
  [field: string]: unknown;
}

/** The catalog's contents. Keys are lowercase names; partitions are keyed by JSON.stringify(Values). */
export interface FakeGlueState {
  databases: Map<string, StoredDatabase>;
  tables: Map<string /* db */, Map<string /* table */, StoredTable>>;
  partitions: Map<string /* db */, Map<string /* table */, Map<string /* JSON of Values */, StoredPartition>>>;
}

export interface FakeGlueOptions {
  /** Page size of GetDatabases / GetTables / GetPartitions when the request has no MaxResults. Default 2, so tests page. */
  pageSize?: number;
  /** Account id reported as CatalogId. Default 123456789012. */
  accountId?: string;
}

/** A running fake Glue endpoint. */
export interface FakeGlue {
  /** http://127.0.0.1:<port> */
  endpoint: string;
  /** A real SDK client for this endpoint: region us-east-1, static dummy credentials, maxAttempts 4. Destroyed by close(). */
  client(): GlueClient;
  state: FakeGlueState;
  /** Every request received, in order, including failed and retried ones. */
  calls: RecordedCall[];
  /** Fail the next `times` calls of `operation` with this error (e.g. ThrottlingException, ConcurrentModificationException). */
  failNext(operation: string, errorType: string, message?: string, times?: number): void;
  /** Simulate a concurrent writer: bump a table's VersionId (and UpdateTime) as if someone else updated it. */
  touchTable(db: string, table: string): void;
  close(): Promise<void>;
}

/**
 * Starts a fake Glue on a random port of 127.0.0.1.
 *
 * @example
 * ```ts
 * const glue = await startFakeGlue({ pageSize: 2 });
 * await glue.client().send(new CreateDatabaseCommand({ DatabaseInput: { Name: 'lake' } }));
 * expect(glue.calls.map((c) => c.operation)).toEqual(['CreateDatabase']);
 * await glue.close();
 * ```
 */
export async function startFakeGlue(options: FakeGlueOptions = {}): Promise<FakeGlue> {
  const pageSize = options.pageSize ?? 2;
  if (!Number.isInteger(pageSize) || pageSize < 1) throw new Error(`startFakeGlue: pageSize must be a positive integer, got ${pageSize}`);
  const catalog = new GlueCatalog(options.accountId ?? '123456789012', pageSize);
  const server = await startAwsJsonServer({
    targetPrefix: 'AWSGlue',
    errorTypeHeader: true,
    handlers: {
      GetDatabase: (input) => catalog.getDatabase(input),
      GetDatabases: (input) => catalog.getDatabases(input),
      CreateDatabase: (input) => catalog.createDatabase(input),
      GetTable: (input) => catalog.getTable(input),
      GetTables: (input) => catalog.getTables(input),
      CreateTable: (input) => catalog.createTable(input),
      UpdateTable: (input) => catalog.updateTable(input),
      DeleteTable: (input) => catalog.deleteTable(input),
      BatchCreatePartition: (input) => catalog.batchCreatePartition(input),
      GetPartitions: (input) => catalog.getPartitions(input),
    },
  });
  const clients: GlueClient[] = [];
  return {
    endpoint: server.endpoint,
    state: catalog.state,
    calls: server.calls,
    failNext: server.failNext,
    client() {
      const client = new GlueClient(fakeClientConfig(server.endpoint, 'glue'));
      clients.push(client);
      return client;
    },
    touchTable(db, table) {
      const stored = catalog.state.tables.get(db.toLowerCase())?.get(table.toLowerCase());
      if (!stored) throw new Error(`touchTable: no table ${db}.${table} in the fake catalog`);
      bumpVersion(stored);
    },
    async close() {
      for (const client of clients) client.destroy();
      await server.close();
    },
  };
}

function bumpVersion(table: StoredTable): void {
  table.VersionId = String(Number(table.VersionId) + 1);
  table.UpdateTime = epochSeconds();
}

function entityNotFound(kind: 'Database' | 'Table', name: string): AwsJsonError {
  return new AwsJsonError('EntityNotFoundException', `${kind} ${name} not found.`);
}

/** The catalog's state and one method per operation; each takes the wire-format request. */
class GlueCatalog {
  readonly state: FakeGlueState = { databases: new Map(), tables: new Map(), partitions: new Map() };

  constructor(
    private readonly accountId: string,
    private readonly pageSize: number,
  ) {}

  getDatabase(input: any): unknown {
    const check = new ConstraintCheck();
    checkName(check, input.Name, 'name');
    check.throwIfAny('ValidationException');
    return { Database: this.database(input.Name) };
  }

  getDatabases(input: any): unknown {
    const check = new ConstraintCheck();
    check.range(input.MaxResults, 'maxResults', 1, GLUE_FAKE_LIMITS.getDatabasesMaxResults);
    check.throwIfAny('ValidationException');
    const page = this.page(byName([...this.state.databases.values()]), 'databases', input);
    return { DatabaseList: page.items, NextToken: page.nextToken };
  }

  createDatabase(input: any): unknown {
    const check = new ConstraintCheck();
    if (check.required(input.DatabaseInput, 'databaseInput')) {
      checkName(check, input.DatabaseInput.Name, 'databaseInput.name');
    }
    check.throwIfAny('ValidationException');
    const { Name, ...rest } = input.DatabaseInput as { Name: string; [k: string]: unknown };
    const name = Name.toLowerCase();
    if (this.state.databases.has(name)) throw new AwsJsonError('AlreadyExistsException', 'Database already exists.');
    this.state.databases.set(name, {
      CreateTableDefaultPermissions: [{ Principal: { DataLakePrincipalIdentifier: 'IAM_ALLOWED_PRINCIPALS' }, Permissions: ['ALL'] }],
      ...rest,
      Name: name,
      CreateTime: epochSeconds(),
      CatalogId: this.accountId,
    });
    this.state.tables.set(name, new Map());
    this.state.partitions.set(name, new Map());
    return {};
  }

  getTable(input: any): unknown {
    const check = new ConstraintCheck();
    checkName(check, input.DatabaseName, 'databaseName');
    checkName(check, input.Name, 'name');
    check.throwIfAny('ValidationException');
    return { Table: this.table(input.DatabaseName, input.Name) };
  }

  getTables(input: any): unknown {
    const check = new ConstraintCheck();
    checkName(check, input.DatabaseName, 'databaseName');
    check.range(input.MaxResults, 'maxResults', 1, GLUE_FAKE_LIMITS.getTablesMaxResults);
    check.throwIfAny('ValidationException');
    const db = this.database(input.DatabaseName).Name;
    const matches = tableNameFilter(input.Expression);
    const tables = byName([...(this.state.tables.get(db)?.values() ?? [])]).filter((t) => matches(t.Name));
    const page = this.page(tables, `tables:${db}:${input.Expression ?? ''}`, input);
    return { TableList: page.items, NextToken: page.nextToken };
  }

  createTable(input: any): unknown {
    const check = new ConstraintCheck();
    checkName(check, input.DatabaseName, 'databaseName');
    if (check.required(input.TableInput, 'tableInput')) checkTableInput(check, input.TableInput);
    check.throwIfAny('ValidationException');
    const db = this.database(input.DatabaseName).Name;
    const tables = this.state.tables.get(db)!;
    const { Name, ...definition } = input.TableInput as { Name: string; [k: string]: unknown };
    const name = Name.toLowerCase();
    if (tables.has(name)) throw new AwsJsonError('AlreadyExistsException', 'Table already exists.');
    const now = epochSeconds();
    tables.set(name, {
      Retention: 0,
      ...definition,
      Name: name,
      DatabaseName: db,
      CreateTime: now,
      UpdateTime: now,
      CreatedBy: `arn:aws:iam::${this.accountId}:user/fake-glue`,
      IsRegisteredWithLakeFormation: false,
      CatalogId: this.accountId,
      VersionId: '0',
      IsMultiDialectView: false,
    });
    this.state.partitions.get(db)!.set(name, new Map());
    return {};
  }

  updateTable(input: any): unknown {
    const check = new ConstraintCheck();
    checkName(check, input.DatabaseName, 'databaseName');
    if (check.required(input.TableInput, 'tableInput')) checkTableInput(check, input.TableInput);
    check.length(input.VersionId, 'versionId', 1, GLUE_FAKE_LIMITS.nameLength);
    check.throwIfAny('ValidationException');
    const current = this.table(input.DatabaseName, input.TableInput.Name);
    if (input.VersionId !== undefined && input.VersionId !== current.VersionId) {
      throw new AwsJsonError('ConcurrentModificationException', 'Update table failed due to concurrent modifications.');
    }
    const { Name: _name, ...definition } = input.TableInput as { Name: string; [k: string]: unknown };
    const replaced: StoredTable = {
      Retention: 0,
      ...definition,
      Name: current.Name,
      DatabaseName: current.DatabaseName,
      CreateTime: current.CreateTime,
      UpdateTime: current.UpdateTime,
      CreatedBy: current.CreatedBy,
      IsRegisteredWithLakeFormation: current.IsRegisteredWithLakeFormation,
      CatalogId: current.CatalogId,
      VersionId: current.VersionId,
      IsMultiDialectView: current.IsMultiDialectView,
    };
    bumpVersion(replaced);
    this.state.tables.get(current.DatabaseName)!.set(current.Name, replaced);
    return {};
  }

  deleteTable(input: any): unknown {
    const check = new ConstraintCheck();
    checkName(check, input.DatabaseName, 'databaseName');
    checkName(check, input.Name, 'name');
    check.throwIfAny('ValidationException');
    const table = this.table(input.DatabaseName, input.Name);
    this.state.tables.get(table.DatabaseName)!.delete(table.Name);
    this.state.partitions.get(table.DatabaseName)!.delete(table.Name);
    return {};
  }

  batchCreatePartition(input: any): unknown {
    const check = new ConstraintCheck();
    checkName(check, input.DatabaseName, 'databaseName');
    checkName(check, input.TableName, 'tableName');
    if (check.required(input.PartitionInputList, 'partitionInputList')) {
      check.size(input.PartitionInputList, 'partitionInputList', 0, GLUE_FAKE_LIMITS.batchCreatePartitionMax);
    }
    check.throwIfAny('ValidationException');
    const table = this.table(input.DatabaseName, input.TableName);
    const stored = this.state.partitions.get(table.DatabaseName)!.get(table.Name)!;
    const keyCount = table.PartitionKeys?.length ?? 0;
    const errors: unknown[] = [];
    for (const partition of input.PartitionInputList as Array<{ Values?: string[]; [k: string]: unknown }>) {
      const values = partition.Values ?? [];
      const failure = (ErrorCode: string, ErrorMessage: string) => errors.push({ PartitionValues: values, ErrorDetail: { ErrorCode, ErrorMessage } });
      if (values.length !== keyCount) {
        failure('InvalidInputException', 'The number of partition keys do not match the number of partition values');
        continue;
      }
      const key = JSON.stringify(values);
      if (stored.has(key)) {
        failure('AlreadyExistsException', 'Partition already exists.');
        continue;
      }
      stored.set(key, {
        ...partition,
        Values: values,
        DatabaseName: table.DatabaseName,
        TableName: table.Name,
        CreationTime: epochSeconds(),
        CatalogId: this.accountId,
      });
    }
    return errors.length > 0 ? { Errors: errors } : {};
  }

  getPartitions(input: any): unknown {
    const check = new ConstraintCheck();
    checkName(check, input.DatabaseName, 'databaseName');
    checkName(check, input.TableName, 'tableName');
    check.range(input.MaxResults, 'maxResults', 1, GLUE_FAKE_LIMITS.getPartitionsMaxResults);
    check.throwIfAny('ValidationException');
    const table = this.table(input.DatabaseName, input.TableName);
    const matches = partitionFilter(input.Expression, table.PartitionKeys ?? []);
    const partitions = [...this.state.partitions.get(table.DatabaseName)!.get(table.Name)!.values()].filter(matches);
    const page = this.page(partitions, `partitions:${table.DatabaseName}.${table.Name}:${input.Expression ?? ''}`, input);
    return { Partitions: page.items, NextToken: page.nextToken };
  }

  private database(name: string): StoredDatabase {
    const found = this.state.databases.get(name.toLowerCase());
    if (!found) throw entityNotFound('Database', name);
    return found;
  }

  private table(dbName: string, tableName: string): StoredTable {
    const db = this.database(dbName).Name;
    const found = this.state.tables.get(db)?.get(tableName.toLowerCase());
    if (!found) throw entityNotFound('Table', tableName);
    return found;
  }

  /** One page of `items`; NextToken only while more items remain. */
  private page<T>(items: T[], scope: string, input: { NextToken?: string; MaxResults?: number }): { items: T[]; nextToken?: string } {
    let offset = 0;
    if (input.NextToken !== undefined) {
      const decoded = decodePageToken(input.NextToken, scope);
      if (decoded === undefined) throw new AwsJsonError('InvalidInputException', 'Invalid NextToken.');
      offset = decoded;
    }
    const end = offset + (input.MaxResults ?? this.pageSize);
    return { items: items.slice(offset, end), nextToken: end < items.length ? encodePageToken(scope, end) : undefined };
  }
}

/** Listings come back in name order, whatever the creation order. */
function byName<T extends { Name: string }>(items: T[]): T[] {
  return items.sort((x, y) => (x.Name < y.Name ? -1 : x.Name > y.Name ? 1 : 0));
}

function checkName(check: ConstraintCheck, value: unknown, path: string): void {
  if (!check.required(value, path)) return;
  check.length(value, path, 1, GLUE_FAKE_LIMITS.nameLength);
  check.pattern(value, path, SINGLE_LINE, SINGLE_LINE_TEXT);
}

function checkTableInput(check: ConstraintCheck, tableInput: any): void {
  checkName(check, tableInput.Name, 'tableInput.name');
  checkColumns(check, tableInput.StorageDescriptor?.Columns, 'tableInput.storageDescriptor.columns');
  checkColumns(check, tableInput.PartitionKeys, 'tableInput.partitionKeys');
}

/** Column constraints; the path names list members 1-based, as AWS validation messages do. */
function checkColumns(check: ConstraintCheck, columns: unknown, path: string): void {
  if (!Array.isArray(columns)) return;
  columns.forEach((column: any, i) => {
    const member = `${path}.${i + 1}.member`;
    checkName(check, column?.Name, `${member}.name`);
    check.length(column?.Type, `${member}.type`, 0, GLUE_FAKE_LIMITS.columnTypeLength);
    check.length(column?.Comment, `${member}.comment`, 0, GLUE_FAKE_LIMITS.commentLength);
  });
}

/**
 * GetTables' Expression: a pattern over table names where `*` matches anything and `|`
 * separates alternatives (matched case-insensitively, whole name).
 */
function tableNameFilter(expression: string | undefined): (name: string) => boolean {
  if (expression === undefined || expression === '') return () => true;
  const alternatives = expression.split('|').map((alt) => alt.replace(/[.+?^${}()[\]\\]/g, '\\$&').replace(/\*/g, '.*'));
  const regex = new RegExp(`^(?:${alternatives.join('|')})$`, 'i');
  return (name) => regex.test(name);
}

const NUMERIC_KEY_TYPES = new Set(['tinyint', 'smallint', 'int', 'integer', 'bigint', 'float', 'double', 'decimal']);
const CLAUSE = /^\s*`?([A-Za-z_][A-Za-z0-9_]*)`?\s*(=|<>|!=|<=|>=|<|>)\s*('(?:[^']|'')*'|-?\d+(?:\.\d+)?)\s*$/;

/**
 * GetPartitions' Expression, limited to what the fake supports: comparisons of a partition key with
 * a literal (`dt >= '2024-01-01'`), joined by AND. Numeric key types compare as numbers. Anything
 * else is refused with InvalidInputException naming the limitation, so a test never passes on a
 * silently ignored filter.
 */
function partitionFilter(expression: string | undefined, keys: Array<{ Name: string; Type?: string }>): (p: StoredPartition) => boolean {
  if (expression === undefined || expression.trim() === '') return () => true;
  const clauses = expression.split(/\s+and\s+/i).map((text) => {
    const match = CLAUSE.exec(text);
    if (!match) {
      throw new AwsJsonError('InvalidInputException', `fake Glue supports only "<key> <op> <literal>" clauses joined by AND in Expression, got: ${expression}`);
    }
    const [, column, op, literal] = match as unknown as [string, string, string, string];
    const index = keys.findIndex((k) => k.Name.toLowerCase() === column.toLowerCase());
    if (index < 0) throw new AwsJsonError('InvalidInputException', `Unknown column '${column}' in Expression: ${expression}`);
    const numeric = NUMERIC_KEY_TYPES.has((keys[index]!.Type ?? '').toLowerCase().replace(/\(.*$/, ''));
    const value = literal.startsWith("'") ? literal.slice(1, -1).replace(/''/g, "'") : literal;
    return { index, op, numeric, value };
  });
  return (partition) =>
    clauses.every(({ index, op, numeric, value }) => {
      const actual = partition.Values[index] ?? '';
      const cmp = numeric ? Number(actual) - Number(value) : actual < value ? -1 : actual > value ? 1 : 0;
      switch (op) {
        case '=':
          return cmp === 0;
        case '<>':
        case '!=':
          return cmp !== 0;
        case '<':
          return cmp < 0;
        case '<=':
          return cmp <= 0;
        case '>':
          return cmp > 0;
        default:
          return cmp >= 0;
      }
    });
}

import { randomUUID } from 'node:crypto';
import { AthenaClient } from '@aws-sdk/client-athena';
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
 * A local Amazon Athena endpoint for integration tests: the real `AthenaClient` talks to it over
 * HTTP (awsJson1_1, `X-Amz-Target: AmazonAthena.<Operation>`). It runs no SQL: `onQuery` decides
 * what each statement does.
 *
 * Behaviour reproduced from the Athena API reference and published measurements of the real
 * service (aoyagikouhei/athena-local's measurement notes):
 * - every error is HTTP 400 `InvalidRequestException` with `AthenaErrorCode` and `ErrorCode`
 *   (same value) and `Message`; no `x-amzn-errortype` header;
 * - request validation: `1 validation error detected: Value null at 'queryString' failed to satisfy
 *   constraint: Member must not be null` (INVALID_INPUT); `ClientRequestToken` is required
 *   (`clientRequestToken is null or empty`; the SDK fills it in) and makes retries idempotent;
 * - unknown id: `QueryExecution <id> was not found` (QUERY_EXECUTION_NOT_FOUND);
 * - GetQueryResults before the end: `Query has not yet finished. Current state: RUNNING`, after a
 *   failure: `Query did not finish successfully. Final query state: FAILED` (both
 *   INVALID_QUERY_EXECUTION_STATE), after a cancel: `Could not find results` (RESULT_NOT_FOUND);
 * - GetQueryResults pages hold at most MaxResults rows (1..1000, default 1000) counting the header
 *   row, which opens the first page of a SELECT / EXPLAIN; a full page carries a NextToken even
 *   when nothing follows (the next page is then empty); values are `VarCharValue` strings and
 *   NULL is a Datum without one; `UpdateCount` is 0 for SELECT;
 * - a stopped query is CANCELLED with `Query cancelled by user`; stopping a finished query is a no-op;
 * - `WorkGroup` defaults to `primary`; `QueryExecutionContext.Catalog` comes back lowercased.
 *
 * Why it still exists beside moto_server: the Athena protocol itself is checked against moto
 * (test/catalog-moto.test.ts runs `views apply --athena` on it; test/query-athena-moto.test.ts
 * runs `query --athena` there, with the rows seeded through moto's
 * `/moto-api/static/athena/query-results`, and checks the table, CSV and JSON output and the
 * workgroup, database and output location moto recorded). This endpoint is kept only for what
 * moto cannot play: every moto query succeeds at once, so FAILED and CANCELLED queries, throttled
 * or refused calls (`failNext`), QUEUED/RUNNING polls and the timeout's StopQueryExecution are
 * played here; and moto returns every row in one page with 0 bytes scanned, so result pages and
 * the scanned-bytes cost are too.
 */

/** How a query ends. `pollsBeforeDone` GetQueryExecution calls see QUEUED then RUNNING before the final state (default 0). */
export type QueryOutcome =
  | {
      state: 'SUCCEEDED';
      /** Result columns; `type` is an Athena type such as `varchar`, `bigint`, `decimal(10,2)`, `timestamp`. */
      columns?: Array<{ name: string; type: string }>;
      /** Data rows (no header row: the fake adds it for SELECT / EXPLAIN); null is SQL NULL. */
      rows?: Array<Array<string | null>>;
      dataScannedInBytes?: number;
      engineExecutionTimeInMillis?: number;
      /** Rows written by INSERT / CTAS (GetQueryResults' UpdateCount). SELECT reports 0. */
      updateCount?: number;
      pollsBeforeDone?: number;
    }
  | {
      state: 'FAILED';
      /** Status.StateChangeReason and AthenaError.ErrorMessage, e.g. `TABLE_NOT_FOUND: line 1:15: Table ... does not exist`. */
      reason: string;
      /** AthenaError.ErrorCategory: 1 system, 2 user (default), 3 other. */
      errorCategory?: number;
      /** AthenaError.ErrorType, e.g. 1301 table not found; default 1000. */
      errorType?: number;
      retryable?: boolean;
      dataScannedInBytes?: number;
      pollsBeforeDone?: number;
    }
  | { state: 'CANCELLED'; reason?: string; pollsBeforeDone?: number };

/** Decides each query's outcome from its SQL text and the StartQueryExecution request. May throw `athenaInvalidRequest(...)` to reject the statement at start. */
export type QueryHandler = (sql: string, input: any) => QueryOutcome;

export type QueryState = 'QUEUED' | 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'CANCELLED';

/** One query execution as the fake tracks it. */
export interface FakeQueryExecution {
  id: string;
  sql: string;
  /** The StartQueryExecution request as received. */
  input: any;
  outcome: QueryOutcome;
  state: QueryState;
  /** GetQueryExecution calls so far. */
  polls: number;
  statementType: string;
  substatementType?: string;
  workGroup: string;
  /** Full path of the result file Athena would write. */
  outputLocation: string;
  submittedAt: number;
  completedAt?: number;
  stateChangeReason?: string;
}

export interface FakeAthenaOptions {
  /**
   * The workgroup's result location, used when a request has no ResultConfiguration.OutputLocation.
   * Default `s3://fake-athena-results/`. `null` models a workgroup without one: such requests then
   * fail like real Athena ("No output location provided...").
   */
  workGroupOutputLocation?: string | null;
}

/** A running fake Athena endpoint. */
export interface FakeAthena {
  /** http://127.0.0.1:<port> */
  endpoint: string;
  /** A real SDK client for this endpoint: region us-east-1, static dummy credentials, maxAttempts 4. Destroyed by close(). */
  client(): AthenaClient;
  /** Every request received, in order, including failed and retried ones. */
  calls: RecordedCall[];
  /** Query executions by id. */
  executions: Map<string, FakeQueryExecution>;
  /** How queries behave from now on. Default: SUCCEEDED with no rows. */
  onQuery(handler: QueryHandler): void;
  /** Fail the next `times` calls of `operation` with this error (e.g. TooManyRequestsException, ThrottlingException). */
  failNext(operation: string, errorType: string, message?: string, times?: number): void;
  close(): Promise<void>;
}

/** Athena's limits used by the fake. */
export const ATHENA_FAKE_LIMITS = {
  queryStringLength: 262_144,
  clientRequestTokenMin: 32,
  clientRequestTokenMax: 128,
  maxResults: 1000,
} as const;

/** The InvalidRequestException Athena answers with, e.g. `athenaInvalidRequest('MALFORMED_QUERY', "line 1:1: mismatched input 'SELEC'...")`. */
export function athenaInvalidRequest(athenaErrorCode: string, message: string): AwsJsonError {
  return new AwsJsonError('InvalidRequestException', message, { AthenaErrorCode: athenaErrorCode, ErrorCode: athenaErrorCode });
}

const NO_OUTPUT_LOCATION =
  'No output location provided. An output location is required either through the Workgroup result configuration setting or as an API input.';
const CANCELLED_BY_USER = 'Query cancelled by user';

/**
 * Starts a fake Athena on a random port of 127.0.0.1.
 *
 * @example
 * ```ts
 * const athena = await startFakeAthena();
 * athena.onQuery(() => ({ state: 'SUCCEEDED', columns: [{ name: 'n', type: 'bigint' }], rows: [['1']] }));
 * const { QueryExecutionId } = await athena.client().send(new StartQueryExecutionCommand({ QueryString: 'SELECT 1 AS n' }));
 * await athena.close();
 * ```
 */
export async function startFakeAthena(options: FakeAthenaOptions = {}): Promise<FakeAthena> {
  const engine = new AthenaEngine(options.workGroupOutputLocation === undefined ? 's3://fake-athena-results/' : options.workGroupOutputLocation);
  const server = await startAwsJsonServer({
    targetPrefix: 'AmazonAthena',
    errorTypeHeader: false,
    handlers: {
      StartQueryExecution: (input) => engine.start(input),
      GetQueryExecution: (input) => engine.getExecution(input),
      GetQueryResults: (input) => engine.getResults(input),
      StopQueryExecution: (input) => engine.stop(input),
    },
    injectedErrorFields: (type) => (type === 'InvalidRequestException' ? { AthenaErrorCode: 'INVALID_INPUT', ErrorCode: 'INVALID_INPUT' } : {}),
  });
  const clients: AthenaClient[] = [];
  return {
    endpoint: server.endpoint,
    calls: server.calls,
    executions: engine.executions,
    failNext: server.failNext,
    onQuery(handler) {
      engine.handler = handler;
    },
    client() {
      const client = new AthenaClient(fakeClientConfig(server.endpoint, 'athena'));
      clients.push(client);
      return client;
    },
    async close() {
      for (const client of clients) client.destroy();
      await server.close();
    },
  };
}

/** Query executions and one method per operation; each takes the wire-format request. */
class AthenaEngine {
  readonly executions = new Map<string, FakeQueryExecution>();
  private readonly byToken = new Map<string, FakeQueryExecution>();
  handler: QueryHandler = () => ({ state: 'SUCCEEDED' });

  constructor(private readonly workGroupOutputLocation: string | null) {}

  start(input: any): unknown {
    const check = new ConstraintCheck(false);
    if (check.required(input.QueryString, 'queryString')) {
      check.length(input.QueryString, 'queryString', 1, ATHENA_FAKE_LIMITS.queryStringLength);
    }
    check.throwIfAny('InvalidRequestException', invalidInput());
    const token = input.ClientRequestToken;
    if (token === undefined || token === null) throw athenaInvalidRequest('INVALID_INPUT', 'clientRequestToken is null or empty');
    const tokenCheck = new ConstraintCheck(false);
    tokenCheck.length(token, 'clientRequestToken', ATHENA_FAKE_LIMITS.clientRequestTokenMin, ATHENA_FAKE_LIMITS.clientRequestTokenMax);
    tokenCheck.throwIfAny('InvalidRequestException', invalidInput());

    const earlier = this.byToken.get(token);
    if (earlier) {
      if (!sameIdempotentParameters(earlier.input, input)) throw athenaInvalidRequest('IDEMPOTENT_PARAMETER_MISMATCH', 'Idempotent parameters do not match');
      return { QueryExecutionId: earlier.id };
    }

    const location = input.ResultConfiguration?.OutputLocation ?? this.workGroupOutputLocation;
    if (location === null || location === undefined) throw athenaInvalidRequest('INVALID_INPUT', NO_OUTPUT_LOCATION);
    if (!/^s3:\/\/[^/]+/.test(location)) throw athenaInvalidRequest('INVALID_INPUT', 'outputLocation is not a valid S3 path.');

    const sql: string = input.QueryString;
    const outcome = this.handler(sql, input);
    const id = randomUUID();
    const { statementType, substatementType } = classifyStatement(sql);
    const execution: FakeQueryExecution = {
      id,
      sql,
      input,
      outcome,
      state: 'QUEUED',
      polls: 0,
      statementType,
      substatementType,
      workGroup: input.WorkGroup ?? 'primary',
      outputLocation: resultFile(location, id, statementType, substatementType),
      submittedAt: epochSeconds(),
    };
    if ((outcome.pollsBeforeDone ?? 0) <= 0) finish(execution);
    this.executions.set(id, execution);
    this.byToken.set(token, execution);
    return { QueryExecutionId: id };
  }

  getExecution(input: any): unknown {
    const execution = this.execution(input);
    execution.polls += 1;
    if (!isFinal(execution.state)) {
      if (execution.polls > (execution.outcome.pollsBeforeDone ?? 0)) finish(execution);
      else execution.state = execution.polls === 1 ? 'QUEUED' : 'RUNNING';
    }
    return { QueryExecution: describe(execution) };
  }

  getResults(input: any): unknown {
    const check = new ConstraintCheck(false);
    check.length(input.NextToken, 'nextToken', 1, 1024);
    check.range(input.MaxResults, 'maxResults', 1, Number.MAX_SAFE_INTEGER);
    check.throwIfAny('InvalidRequestException', invalidInput());
    const execution = this.execution(input);
    const limit = input.MaxResults ?? ATHENA_FAKE_LIMITS.maxResults;
    if (limit > ATHENA_FAKE_LIMITS.maxResults) {
      throw athenaInvalidRequest('INVALID_INPUT', `MaxResults is more than maximum allowed length ${ATHENA_FAKE_LIMITS.maxResults}`);
    }
    const { outcome } = execution;
    if (!isFinal(execution.state)) {
      throw athenaInvalidRequest('INVALID_QUERY_EXECUTION_STATE', `Query has not yet finished. Current state: ${execution.state}`);
    }
    if (execution.state === 'CANCELLED' || outcome.state === 'CANCELLED') throw athenaInvalidRequest('RESULT_NOT_FOUND', 'Could not find results');
    if (outcome.state === 'FAILED') {
      throw athenaInvalidRequest('INVALID_QUERY_EXECUTION_STATE', 'Query did not finish successfully. Final query state: FAILED');
    }
    const scope = `results:${execution.id}`;
    let offset = 0;
    if (input.NextToken !== undefined) {
      const decoded = decodePageToken(input.NextToken, scope);
      if (decoded === undefined) throw athenaInvalidRequest('INVALID_INPUT', `Malformed nextPageToken ${input.NextToken}`);
      offset = decoded;
    }
    const columns = outcome.columns ?? [];
    const rows = resultRows(execution, columns, outcome.rows ?? []);
    const page = rows.slice(offset, offset + limit);
    const response: Record<string, unknown> = {
      ResultSet: {
        Rows: page.map((row) => ({ Data: row.map((value) => (value === null ? {} : { VarCharValue: value })) })),
        ResultSetMetadata: { ColumnInfo: columns.map(columnInfo) },
      },
    };
    const updateCount = outcome.updateCount ?? (execution.substatementType === 'SELECT' ? 0 : undefined);
    if (updateCount !== undefined) response.UpdateCount = updateCount;
    if (page.length === limit) response.NextToken = encodePageToken(scope, offset + limit);
    return response;
  }

  stop(input: any): unknown {
    const execution = this.execution(input);
    if (!isFinal(execution.state)) {
      execution.state = 'CANCELLED';
      execution.stateChangeReason = CANCELLED_BY_USER;
      execution.completedAt = epochSeconds();
    }
    return {};
  }

  private execution(input: any): FakeQueryExecution {
    const check = new ConstraintCheck(false);
    if (check.required(input.QueryExecutionId, 'queryExecutionId')) check.length(input.QueryExecutionId, 'queryExecutionId', 1, 128);
    check.throwIfAny('InvalidRequestException', invalidInput());
    const found = this.executions.get(input.QueryExecutionId);
    if (!found) throw athenaInvalidRequest('QUERY_EXECUTION_NOT_FOUND', `QueryExecution ${input.QueryExecutionId} was not found`);
    return found;
  }
}

function invalidInput(): Record<string, unknown> {
  return { AthenaErrorCode: 'INVALID_INPUT', ErrorCode: 'INVALID_INPUT' };
}

function isFinal(state: QueryState): boolean {
  return state === 'SUCCEEDED' || state === 'FAILED' || state === 'CANCELLED';
}

function finish(execution: FakeQueryExecution): void {
  const { outcome } = execution;
  execution.state = outcome.state;
  execution.completedAt = epochSeconds();
  if (outcome.state === 'FAILED') execution.stateChangeReason = outcome.reason;
  if (outcome.state === 'CANCELLED') execution.stateChangeReason = outcome.reason ?? CANCELLED_BY_USER;
}

/** Athena compares these between a first StartQueryExecution and a retry with the same token. */
function sameIdempotentParameters(first: any, retry: any): boolean {
  return (
    first.QueryString === retry.QueryString &&
    first.QueryExecutionContext?.Catalog === retry.QueryExecutionContext?.Catalog &&
    first.QueryExecutionContext?.Database === retry.QueryExecutionContext?.Database &&
    first.ResultConfiguration?.OutputLocation === retry.ResultConfiguration?.OutputLocation
  );
}

/** GetQueryExecution's QueryExecution for the current state. */
function describe(execution: FakeQueryExecution): Record<string, unknown> {
  const { outcome, input } = execution;
  const final = isFinal(execution.state);
  const status: Record<string, unknown> = { State: execution.state, SubmissionDateTime: execution.submittedAt };
  if (execution.stateChangeReason !== undefined) status.StateChangeReason = execution.stateChangeReason;
  if (execution.completedAt !== undefined) status.CompletionDateTime = execution.completedAt;
  if (execution.state === 'FAILED' && outcome.state === 'FAILED') {
    status.AthenaError = {
      ErrorCategory: outcome.errorCategory ?? 2,
      ErrorType: outcome.errorType ?? 1000,
      Retryable: outcome.retryable ?? false,
      ErrorMessage: outcome.reason,
    };
  }
  const engineMillis = final && outcome.state === 'SUCCEEDED' ? (outcome.engineExecutionTimeInMillis ?? 100) : 0;
  const scanned = final && outcome.state !== 'CANCELLED' ? (outcome.dataScannedInBytes ?? 0) : 0;
  const queueMillis = 10;
  const description: Record<string, unknown> = {
    QueryExecutionId: execution.id,
    Query: execution.sql,
    StatementType: execution.statementType,
    ResultConfiguration: { OutputLocation: execution.outputLocation },
    ResultReuseConfiguration: { ResultReuseByAgeConfiguration: { Enabled: false } },
    Status: status,
    Statistics: {
      EngineExecutionTimeInMillis: engineMillis,
      DataScannedInBytes: scanned,
      TotalExecutionTimeInMillis: queueMillis + engineMillis,
      QueryQueueTimeInMillis: queueMillis,
      ServicePreProcessingTimeInMillis: 0,
      QueryPlanningTimeInMillis: 0,
      ServiceProcessingTimeInMillis: 0,
      ResultReuseInformation: { ReusedPreviousResult: false },
    },
    WorkGroup: execution.workGroup,
    EngineVersion: { SelectedEngineVersion: 'AUTO', EffectiveEngineVersion: 'Athena engine version 3' },
  };
  if (execution.substatementType !== undefined) description.SubstatementType = execution.substatementType;
  const context = input.QueryExecutionContext;
  if (context && (context.Catalog !== undefined || context.Database !== undefined)) {
    description.QueryExecutionContext = {
      ...(context.Catalog !== undefined ? { Catalog: String(context.Catalog).toLowerCase() } : {}),
      ...(context.Database !== undefined ? { Database: context.Database } : {}),
    };
  }
  return description;
}

/** All result rows of a finished SELECT-like query: the header row (for DML SELECT / EXPLAIN) then the data. */
function resultRows(execution: FakeQueryExecution, columns: Array<{ name: string }>, rows: Array<Array<string | null>>): Array<Array<string | null>> {
  for (const [i, row] of rows.entries()) {
    if (row.length !== columns.length) {
      throw new Error(`onQuery outcome row ${i} has ${row.length} values but ${columns.length} columns are declared (query: ${execution.sql})`);
    }
  }
  const hasHeader = execution.statementType === 'DML' && (execution.substatementType === 'SELECT' || execution.substatementType === 'EXPLAIN');
  return hasHeader && columns.length > 0 ? [columns.map((c) => c.name), ...rows] : rows;
}

const FIXED_PRECISION: Record<string, number> = {
  tinyint: 3,
  smallint: 5,
  integer: 10,
  bigint: 19,
  double: 17,
  float: 17,
  timestamp: 3,
  time: 3,
  varbinary: 1_073_741_824,
  varchar: 2_147_483_647,
};
const TYPE_ALIASES: Record<string, string> = { int: 'integer', real: 'float', string: 'varchar', struct: 'row', binary: 'varbinary' };

/** ResultSetMetadata.ColumnInfo the way Athena reports it: base type name, precision and scale from the parameters. */
function columnInfo(column: { name: string; type: string }): Record<string, unknown> {
  const match = /^\s*([A-Za-z ]+?)\s*(?:[(<]\s*(\d+)?\s*(?:,\s*(\d+)\s*)?.*)?$/.exec(column.type);
  const rawBase = (match?.[1] ?? column.type).toLowerCase();
  const base = TYPE_ALIASES[rawBase] ?? rawBase;
  const parametrised = base === 'varchar' || base === 'char' || base === 'decimal';
  const precision = parametrised && match?.[2] !== undefined ? Number(match[2]) : (FIXED_PRECISION[base] ?? 0);
  return {
    CatalogName: 'hive',
    SchemaName: '',
    TableName: '',
    Name: column.name,
    Label: column.name,
    Type: base,
    Precision: precision,
    Scale: base === 'decimal' && match?.[3] !== undefined ? Number(match[3]) : 0,
    Nullable: 'UNKNOWN',
    CaseSensitive: base === 'varchar' || base === 'char',
  };
}

/** StatementType / SubstatementType from the leading keywords, skipping whitespace and comments as Athena does. */
export function classifyStatement(sql: string): { statementType: string; substatementType?: string } {
  const text = sql.replace(/^(?:\s+|--[^\n]*(?:\n|$)|\/\*[\s\S]*?\*\/)*/, '').replace(/\/\*[\s\S]*?\*\//g, ' ');
  const words = text.toUpperCase().match(/[A-Z_]+/g) ?? [];
  const [first = '', second = '', third = '', fourth = ''] = words;
  switch (first) {
    case 'SELECT':
    case 'WITH':
    case 'VALUES':
    case 'TABLE':
      return { statementType: 'DML', substatementType: 'SELECT' };
    case 'EXPLAIN':
      return { statementType: 'DML', substatementType: 'EXPLAIN' };
    case 'INSERT':
    case 'UPDATE':
    case 'DELETE':
    case 'MERGE':
      return { statementType: 'DML', substatementType: first };
    case 'UNLOAD':
    case 'VACUUM':
      return { statementType: 'DML' };
    case 'CREATE': {
      const object = second === 'OR' ? fourth : second === 'EXTERNAL' ? third : second;
      if (object === 'VIEW') return { statementType: 'DDL', substatementType: 'CREATE_VIEW' };
      if (object === 'DATABASE' || object === 'SCHEMA') return { statementType: 'DDL', substatementType: 'CREATE_DATABASE' };
      if (object === 'TABLE') {
        const ctas = /\bAS\s*(?:\(|SELECT\b|WITH\b|VALUES\b|TABLE\b)/i.test(text);
        return { statementType: 'DDL', substatementType: ctas ? 'CREATE_TABLE_AS_SELECT' : 'CREATE_TABLE' };
      }
      return { statementType: 'DDL' };
    }
    case 'DROP':
      if (second === 'VIEW') return { statementType: 'DDL', substatementType: 'DROP_VIEW' };
      if (second === 'TABLE') return { statementType: 'DDL', substatementType: 'DROP_TABLE' };
      if (second === 'DATABASE' || second === 'SCHEMA') return { statementType: 'DDL', substatementType: 'DROP_DATABASE' };
      return { statementType: 'DDL' };
    case 'MSCK':
      return { statementType: 'DDL', substatementType: 'MSCK_REPAIR_TABLE' };
    case 'SHOW': {
      const shown: Record<string, string> = {
        TABLES: 'SHOW_TABLES',
        DATABASES: 'SHOW_DATABASES',
        SCHEMAS: 'SHOW_DATABASES',
        PARTITIONS: 'SHOW_PARTITIONS',
        COLUMNS: 'SHOW_COLUMNS',
        TBLPROPERTIES: 'SHOW_TBLPROPERTIES',
        VIEWS: 'SHOW_VIEWS',
        FUNCTIONS: 'SHOW_FUNCTIONS',
      };
      if (second === 'CREATE') return { statementType: 'UTILITY', substatementType: third === 'VIEW' ? 'SHOW_CREATE_VIEW' : 'SHOW_CREATE_TABLE' };
      const substatementType = shown[second];
      return substatementType ? { statementType: 'UTILITY', substatementType } : { statementType: 'UTILITY' };
    }
    case 'DESCRIBE':
    case 'DESC':
      return { statementType: 'UTILITY', substatementType: 'DESCRIBE_TABLE' };
    default:
      return { statementType: 'DDL' };
  }
}

/** The result file Athena names in ResultConfiguration.OutputLocation for this statement. */
function resultFile(location: string, id: string, statementType: string, substatementType: string | undefined): string {
  const base = location.replace(/\/+$/, '');
  if (statementType === 'DML' && substatementType === 'SELECT') return `${base}/${id}.csv`;
  if (statementType === 'DML' && substatementType !== 'EXPLAIN') return `${base}/${id}`;
  if (substatementType === 'CREATE_TABLE_AS_SELECT') return `${base}/tables/${id}`;
  return `${base}/${id}.txt`;
}

/**
 * The backfill state machine's definition run for real, on this machine: aws-local-stepfunctions
 * (an Amazon States Language interpreter) executes the same JSON the deploy app ships, with the
 * Lambda task replaced by `invoke`. It is a FanOutEngine for runFanOut directly, and it can
 * answer the Step Functions API over HTTP (the awsJson1_0 protocol of the SDK's SFNClient), so
 * `clicklake compact --fan-out` can be followed end to end.
 *
 * Map runs' item counts come from the invocations: a branch is done when its invoke returned or
 * failed with an error the definition does not retry.
 */
// aws-local-stepfunctions calls Promise.withResolvers (Node 22); Node 20 lacks it.
import 'core-js/actual/promise/with-resolvers.js';
import { StateMachine } from 'aws-local-stepfunctions';
import type { BackfillInput, BackfillItem, BranchResult } from '../../src/compaction/fanout/plan.js';
import type { ExecutionStatus, FanOutEngine } from '../../src/compaction/fanout/run.js';
import { startAwsJsonServer, AwsJsonError, type AwsJsonServer } from './aws-json-server.js';

/** What the backfill Lambda answers (the handler's result, the fields the definition reads). */
export interface InvokeResult {
  units: unknown[];
  deferred: string[];
  totals: { written: number };
}
export type Invoke = (event: BackfillItem) => Promise<InvokeResult>;

const RETRIED = new Set(['Lambda.TooManyRequestsException', 'Lambda.ServiceException', 'Lambda.AWSLambdaException', 'Lambda.SdkClientException']);
const ACCOUNT_ARN = 'arn:aws:states:us-east-1:123456789012';

interface Execution {
  input: BackfillInput;
  startDate: Date;
  status: ExecutionStatus['status'];
  output?: BranchResult[];
  error?: string;
  running: number;
  succeeded: number;
  failed: number;
}

export class LocalStepFunctions implements FanOutEngine {
  readonly executions = new Map<string, Execution>();
  /** Every invocation's event, in call order (retries included). */
  readonly invocations: BackfillItem[] = [];
  maxInFlight = 0;
  private inFlight = 0;

  constructor(
    private readonly definition: Record<string, unknown>,
    private readonly invoke: Invoke,
    readonly name = 'clicklake-backfill-click_events',
  ) {}

  get stateMachineArn(): string {
    return `${ACCOUNT_ARN}:stateMachine:${this.name}`;
  }

  async start(input: BackfillInput, name: string): Promise<string> {
    return this.startNow(input, name);
  }

  async describe(id: string): Promise<ExecutionStatus> {
    return this.statusOf(id);
  }

  private startNow(input: BackfillInput, name: string): string {
    const id = `${ACCOUNT_ARN}:execution:${this.name}:${name}`;
    if (this.executions.has(id)) throw new AwsJsonError('ExecutionAlreadyExists', `Execution Already Exists: '${id}'`);
    const execution: Execution = { input, startDate: new Date(), status: 'RUNNING', running: 0, succeeded: 0, failed: 0 };
    this.executions.set(id, execution);
    const machine = new StateMachine(this.definition as never, { validationOptions: { checkArn: true, checkPaths: true } });
    const run = machine.run(input as never, {
      overrides: {
        retryIntervalOverrides: { Compact: 0 },
        taskResourceLocalHandlers: {
          Compact: async (effective) => {
            const event = (effective as unknown as { Payload: BackfillItem }).Payload;
            this.invocations.push(event);
            execution.running++;
            this.maxInFlight = Math.max(this.maxInFlight, ++this.inFlight);
            try {
              const result = await this.invoke(event);
              execution.succeeded++;
              return { StatusCode: 200, Payload: result } as never;
            } catch (err) {
              if (!RETRIED.has((err as Error).name)) execution.failed++;
              throw err;
            } finally {
              execution.running--;
              this.inFlight--;
            }
          },
        },
      },
    });
    run.result.then(
      (output) => {
        execution.output = output as BranchResult[];
        execution.status = 'SUCCEEDED';
      },
      (err: unknown) => {
        execution.status = 'FAILED';
        execution.error = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
      },
    );
    return id;
  }

  private statusOf(id: string): ExecutionStatus {
    const e = this.executions.get(id);
    if (!e) throw new AwsJsonError('ExecutionDoesNotExist', `Execution Does Not Exist: '${id}'`);
    const total = e.input.items.length;
    const status: ExecutionStatus = { status: e.status, branches: { total, running: e.running, succeeded: e.succeeded, failed: e.failed, pending: total - e.running - e.succeeded - e.failed } };
    if (e.output) status.output = e.output;
    if (e.error) status.error = e.error;
    return status;
  }

  /** The Step Functions API over HTTP on 127.0.0.1, for the SDK's SFNClient (AWS_ENDPOINT_URL_SFN). */
  serve(): Promise<AwsJsonServer> {
    const seconds = (d: Date) => d.getTime() / 1000;
    return startAwsJsonServer({
      targetPrefix: 'AWSStepFunctions',
      errorTypeHeader: false,
      handlers: {
        ListStateMachines: () => ({ stateMachines: [{ stateMachineArn: this.stateMachineArn, name: this.name, type: 'STANDARD', creationDate: seconds(new Date()) }] }),
        StartExecution: (input: { stateMachineArn: string; name: string; input: string }) => {
          if (input.stateMachineArn !== this.stateMachineArn) throw new AwsJsonError('StateMachineDoesNotExist', `State Machine Does Not Exist: '${input.stateMachineArn}'`);
          const id = this.startNow(JSON.parse(input.input) as BackfillInput, input.name);
          return { executionArn: id, startDate: seconds(this.executions.get(id)!.startDate) };
        },
        DescribeExecution: (input: { executionArn: string }) => {
          const e = this.executions.get(input.executionArn);
          if (!e) throw new AwsJsonError('ExecutionDoesNotExist', `Execution Does Not Exist: '${input.executionArn}'`);
          return {
            executionArn: input.executionArn,
            stateMachineArn: this.stateMachineArn,
            status: e.status,
            startDate: seconds(e.startDate),
            input: JSON.stringify(e.input),
            ...(e.output ? { output: JSON.stringify(e.output) } : {}),
            ...(e.error ? { error: e.error.split(':')[0], cause: e.error } : {}),
          };
        },
        ListMapRuns: (input: { executionArn: string }) => ({
          mapRuns: this.executions.has(input.executionArn) ? [{ executionArn: input.executionArn, mapRunArn: `${input.executionArn.replace(':execution:', ':mapRun:')}/CompactHours:1`, stateMachineArn: this.stateMachineArn, startDate: seconds(new Date()) }] : [],
        }),
        DescribeMapRun: (input: { mapRunArn: string }) => {
          const executionArn = input.mapRunArn.replace(':mapRun:', ':execution:').replace(/\/CompactHours:1$/, '');
          const { branches } = this.statusOf(executionArn);
          const e = this.executions.get(executionArn)!;
          return {
            mapRunArn: input.mapRunArn,
            executionArn,
            status: e.status === 'RUNNING' ? 'RUNNING' : e.status === 'SUCCEEDED' ? 'SUCCEEDED' : 'FAILED',
            startDate: seconds(e.startDate),
            maxConcurrency: 0,
            toleratedFailurePercentage: 0,
            toleratedFailureCount: 0,
            itemCounts: { ...branches, timedOut: 0, aborted: 0, resultsWritten: 0 },
            executionCounts: { ...branches, timedOut: 0, aborted: 0, resultsWritten: 0 },
          };
        },
      },
    });
  }
}

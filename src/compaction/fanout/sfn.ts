/**
 * The fan-out engine on AWS Step Functions (SDK v3): finds the deployed backfill state machine,
 * starts an execution, and reads its Map run's branch counts and, at the end, its output.
 */
import { DescribeExecutionCommand, DescribeMapRunCommand, ListMapRunsCommand, ListStateMachinesCommand, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { ClicklakeError } from '../../errors.js';
import type { BackfillInput, BranchResult } from './plan.js';
import type { ExecutionStatus, FanOutEngine } from './run.js';

/** The ARN of `nameOrArn`: an ARN as is, a name looked up among the account's state machines. */
export async function resolveStateMachine(client: SFNClient, nameOrArn: string): Promise<string> {
  if (nameOrArn.startsWith('arn:')) return nameOrArn;
  let nextToken: string | undefined;
  do {
    const page = await client.send(new ListStateMachinesCommand({ ...(nextToken ? { nextToken } : {}) }));
    const found = page.stateMachines?.find((m) => m.name === nameOrArn);
    if (found?.stateMachineArn) return found.stateMachineArn;
    nextToken = page.nextToken;
  } while (nextToken);
  throw new ClicklakeError(
    'state_machine_not_found',
    `no state machine named ${nameOrArn} in this account and region: deploy the stack (npx cdk deploy --all, see the README's "Deploy to AWS"), set AWS_REGION to deploy.region, or pass --state-machine with the BackfillStateMachine output`,
    { name: nameOrArn },
  );
}

export class StepFunctionsEngine implements FanOutEngine {
  private mapRunArn: string | undefined;

  constructor(
    private readonly client: SFNClient,
    private readonly stateMachineArn: string,
  ) {}

  async start(input: BackfillInput, name: string): Promise<string> {
    const started = await this.client.send(new StartExecutionCommand({ stateMachineArn: this.stateMachineArn, name, input: JSON.stringify(input) }));
    return started.executionArn!;
  }

  async describe(id: string): Promise<ExecutionStatus> {
    const execution = await this.client.send(new DescribeExecutionCommand({ executionArn: id }));
    const status: ExecutionStatus = { status: (execution.status ?? 'RUNNING') as ExecutionStatus['status'] };
    const branches = await this.branchCounts(id);
    if (branches) status.branches = branches;
    if (status.status === 'SUCCEEDED') status.output = JSON.parse(execution.output ?? '[]') as BranchResult[];
    else if (status.status !== 'RUNNING') {
      const why = [execution.error, execution.cause].filter(Boolean).join(': ');
      if (why) status.error = why;
    }
    return status;
  }

  /** The Map run's item counts; undefined until the Map state has started. */
  private async branchCounts(executionArn: string): Promise<ExecutionStatus['branches']> {
    if (!this.mapRunArn) {
      const runs = await this.client.send(new ListMapRunsCommand({ executionArn }));
      this.mapRunArn = runs.mapRuns?.[0]?.mapRunArn;
      if (!this.mapRunArn) return undefined;
    }
    const run = await this.client.send(new DescribeMapRunCommand({ mapRunArn: this.mapRunArn }));
    const c = run.itemCounts;
    if (!c) return undefined;
    return { total: c.total ?? 0, pending: c.pending ?? 0, running: c.running ?? 0, succeeded: c.succeeded ?? 0, failed: (c.failed ?? 0) + (c.timedOut ?? 0) + (c.aborted ?? 0) };
  }
}

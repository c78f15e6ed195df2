/**
 * The backfill fan-out: a Step Functions state machine (the definition of
 * src/compaction/fanout/definition.ts, unchanged) whose Distributed Map runs the backfill function
 * over lists of hours, `deploy.backfill.maxConcurrency` at a time. `clicklake compact --from --to
 * --fan-out` starts and follows it.
 */
import { Arn, ArnFormat, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { backfillDefinition, FUNCTION_ARN_SUBSTITUTION } from '../compaction/fanout/definition.js';
import { backfillStateMachineName } from '../compaction/fanout/plan.js';
import type { DeploySettings } from './config.js';

export interface BackfillProps {
  deploy: DeploySettings;
  table: string;
  fn: lambda.IFunction;
}

export class Backfill extends Construct {
  readonly stateMachine: sfn.StateMachine;

  constructor(scope: Construct, id: string, props: BackfillProps) {
    super(scope, id);
    const name = backfillStateMachineName(props.table);
    const stack = Stack.of(this);
    // Its own ARNs by name: the Distributed Map starts child executions of this state machine,
    // and a reference to the construct from its own role would be circular.
    const self = Arn.format({ service: 'states', resource: 'stateMachine', resourceName: name, arnFormat: ArnFormat.COLON_RESOURCE_NAME }, stack);
    const executions = Arn.format({ service: 'states', resource: 'execution', resourceName: `${name}/*`, arnFormat: ArnFormat.COLON_RESOURCE_NAME }, stack);
    const role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('states.amazonaws.com'),
      description: `clicklake: the backfill state machine of ${props.table}`,
    });
    role.addToPolicy(new iam.PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: [props.fn.functionArn, `${props.fn.functionArn}:*`] }));
    role.addToPolicy(new iam.PolicyStatement({ actions: ['states:StartExecution'], resources: [self] }));
    role.addToPolicy(new iam.PolicyStatement({ actions: ['states:DescribeExecution', 'states:StopExecution'], resources: [executions] }));
    const logGroup = new logs.LogGroup(this, 'Logs', { retention: props.deploy.lambda.logRetentionDays, removalPolicy: RemovalPolicy.DESTROY });
    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      stateMachineName: name,
      stateMachineType: sfn.StateMachineType.STANDARD,
      definitionBody: sfn.DefinitionBody.fromString(JSON.stringify(backfillDefinition({ maxConcurrency: props.deploy.backfill.maxConcurrency }))),
      definitionSubstitutions: { [FUNCTION_ARN_SUBSTITUTION]: props.fn.functionArn },
      role,
      logs: { destination: logGroup, level: sfn.LogLevel.ALL, includeExecutionData: false },
    });
  }
}

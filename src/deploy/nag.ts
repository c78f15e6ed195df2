/**
 * cdk-nag's AwsSolutions checks over the app, and the findings accepted on purpose, each with
 * its reason. Anything else the checks report fails `deploy synth` and the tests.
 */
import { Aspects, type Stack } from 'aws-cdk-lib';
import { AwsSolutionsChecks, NagSuppressions } from 'cdk-nag';
import type { App } from 'aws-cdk-lib';

export function addNagChecks(app: App): void {
  Aspects.of(app).add(new AwsSolutionsChecks({ verbose: true }));
}

export function acknowledgeFindings(stack: Stack): void {
  NagSuppressions.addStackSuppressions(stack, [
    { id: 'AwsSolutions-S1', reason: 'The access-log bucket is the server-access-log target; logging it to itself would loop.' },
    { id: 'AwsSolutions-IAM5', reason: 'Wildcards are object keys under one zone prefix of one bucket (s3:.../raw/*), the log streams of one log group, and the backup key found by alias (kms:ResourceAliases condition): no broader than the resource.' },
    { id: 'AwsSolutions-IAM4', reason: "API Gateway's account-level CloudWatch role uses AWS's managed AmazonAPIGatewayPushToCloudWatchLogs policy, the documented way to let the stage write its logs." },
    { id: 'AwsSolutions-APIG2', reason: 'The POST /events method has a request validator with the generated draft-4 model (validateRequestBody); cdk-nag looks for one on the API root.' },
    { id: 'AwsSolutions-APIG4', reason: 'The collection endpoint is public by design: anonymous guests post from the menu page. Abuse is bounded by stage throttling, the 1,000 KiB body limit and the model.' },
    { id: 'AwsSolutions-COG4', reason: 'No user pool: the menu page is anonymous (see APIG4).' },
    { id: 'AwsSolutions-APIG3', reason: 'No WAF web ACL by default: it bills per month and per request, against the customer\'s first priority (cost); throttling bounds abuse. Attach one to the stage if needed.' },
    { id: 'AwsSolutions-SQS3', reason: 'This queue is the dead-letter queue of the compaction Lambda; it has no DLQ of its own.' },
    { id: 'AwsSolutions-COG7', reason: 'The optional guest identity pool (deploy.cognito) exists for anonymous menu-page guests; their role may only firehose:PutRecordBatch on the click stream.' },
    { id: 'AwsSolutions-SF2', reason: 'No X-Ray on the backfill state machine: it bills per trace and the Map run already shows every branch with its error; the execution logs go to CloudWatch (level ALL).' },
    { id: 'AwsSolutions-L1', reason: 'nodejs22.x is the newest runtime clicklake is built and tested for (Node 20 and 22).' },
  ]);
}

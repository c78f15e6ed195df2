/**
 * The optional cheaper ingestion (deploy.cognito): a Cognito identity pool handing guests
 * (unauthenticated identities) short-lived credentials of a role that may do one thing, put record
 * batches on the click stream. The menu page then calls Firehose directly: no API Gateway request
 * on the bill, at the price of no request model in front (compaction still validates every event).
 */
import * as cognito from 'aws-cdk-lib/aws-cognito';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as firehose from 'aws-cdk-lib/aws-kinesisfirehose';
import { Construct } from 'constructs';

export interface BrowserIngestionProps {
  stream: firehose.CfnDeliveryStream;
  streamName: string;
}

export class BrowserIngestion extends Construct {
  readonly identityPool: cognito.CfnIdentityPool;
  readonly guestRole: iam.Role;

  constructor(scope: Construct, id: string, props: BrowserIngestionProps) {
    super(scope, id);
    this.identityPool = new cognito.CfnIdentityPool(this, 'IdentityPool', {
      allowUnauthenticatedIdentities: true,
      // The enhanced flow only: the classic flow would let a guest pick another role.
      allowClassicFlow: false,
    });
    this.guestRole = new iam.Role(this, 'GuestRole', {
      description: `clicklake: menu-page guests put record batches on ${props.streamName}, nothing else`,
      assumedBy: new iam.FederatedPrincipal(
        'cognito-identity.amazonaws.com',
        {
          StringEquals: { 'cognito-identity.amazonaws.com:aud': this.identityPool.ref },
          'ForAnyValue:StringLike': { 'cognito-identity.amazonaws.com:amr': 'unauthenticated' },
        },
        'sts:AssumeRoleWithWebIdentity',
      ),
      inlinePolicies: {
        putRecordBatch: new iam.PolicyDocument({
          statements: [new iam.PolicyStatement({ actions: ['firehose:PutRecordBatch'], resources: [props.stream.attrArn] })],
        }),
      },
    });
    new cognito.CfnIdentityPoolRoleAttachment(this, 'Roles', {
      identityPoolId: this.identityPool.ref,
      roles: { unauthenticated: this.guestRole.roleArn },
    });
  }
}

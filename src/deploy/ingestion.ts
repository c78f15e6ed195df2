/**
 * The collection endpoint: API Gateway REST `POST /events` -> Firehose PutRecord by AWS service
 * integration (no Lambda in the path), validated with the draft-4 model generated from the schema;
 * the Firehose DirectPut stream writing the raw layout compaction reads.
 */
import { Aws, Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as firehose from 'aws-cdk-lib/aws-kinesisfirehose';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import type { Settings } from '../config/settings.js';
import { acceptedTemplate, putRecordTemplate } from '../ingest/mapping-templates.js';
import { MAX_BODY_BYTES, requestModel } from '../ingest/request-model.js';
import { firehosePrefixes } from '../partitions/layout.js';
import type { TableSpec } from '../schema/types.js';
import type { DeploySettings } from './config.js';
import { deliveryStreamName } from './names.js';

export interface IngestionProps {
  settings: Settings;
  deploy: DeploySettings;
  spec: TableSpec;
  bucket: s3.IBucket;
  key: kms.IKey;
}

const JSON_TYPES = ['application/json', 'text/plain'] as const;

export class Ingestion extends Construct {
  readonly api: apigateway.RestApi;
  readonly stream: firehose.CfnDeliveryStream;
  readonly streamName: string;

  constructor(scope: Construct, id: string, props: IngestionProps) {
    super(scope, id);
    const { settings, deploy, spec, bucket, key } = props;
    this.streamName = deliveryStreamName(spec.name);
    this.stream = this.deliveryStream(settings, deploy, spec, bucket, key);
    this.api = this.restApi(deploy, spec, key);
  }

  private deliveryStream(settings: Settings, deploy: DeploySettings, spec: TableSpec, bucket: s3.IBucket, key: kms.IKey): firehose.CfnDeliveryStream {
    const root = settings.prefix ? `${settings.prefix}/` : '';
    const prefixes = firehosePrefixes(settings.layout, spec.name);
    const logGroup = new logs.LogGroup(this, 'DeliveryLogs', { retention: deploy.lambda.logRetentionDays, removalPolicy: RemovalPolicy.DESTROY });
    const logStream = new logs.LogStream(this, 'DeliveryLogStream', { logGroup, logStreamName: 'S3Delivery', removalPolicy: RemovalPolicy.DESTROY });
    const rawObjects = `${bucket.bucketArn}/${root}${settings.layout.rawPrefix}/*`;
    const role = new iam.Role(this, 'DeliveryRole', {
      assumedBy: new iam.ServicePrincipal('firehose.amazonaws.com', { conditions: { StringEquals: { 'sts:ExternalId': Aws.ACCOUNT_ID } } }),
      description: `clicklake: Firehose ${this.streamName} writes the raw zone`,
      inlinePolicies: {
        delivery: new iam.PolicyDocument({
          statements: [
            new iam.PolicyStatement({ actions: ['s3:AbortMultipartUpload', 's3:GetBucketLocation', 's3:ListBucket', 's3:ListBucketMultipartUploads'], resources: [bucket.bucketArn] }),
            new iam.PolicyStatement({ actions: ['s3:PutObject', 's3:GetObject', 's3:AbortMultipartUpload'], resources: [rawObjects] }),
            new iam.PolicyStatement({ actions: ['kms:GenerateDataKey', 'kms:Decrypt'], resources: [key.keyArn] }),
            new iam.PolicyStatement({ actions: ['logs:PutLogEvents'], resources: [`${logGroup.logGroupArn.replace(/:\*$/, '')}:log-stream:*`] }),
          ],
        }),
      },
    });
    const stream = new firehose.CfnDeliveryStream(this, 'Stream', {
      deliveryStreamName: this.streamName,
      deliveryStreamType: 'DirectPut',
      deliveryStreamEncryptionConfigurationInput: { keyType: 'CUSTOMER_MANAGED_CMK', keyArn: key.keyArn },
      extendedS3DestinationConfiguration: {
        bucketArn: bucket.bucketArn,
        roleArn: role.roleArn,
        prefix: `${root}${prefixes.prefix}`,
        errorOutputPrefix: `${root}${prefixes.errorOutputPrefix}`,
        bufferingHints: { intervalInSeconds: deploy.firehose.bufferIntervalSeconds, sizeInMBs: deploy.firehose.bufferSizeMiB },
        compressionFormat: 'GZIP',
        encryptionConfiguration: { kmsEncryptionConfig: { awskmsKeyArn: key.keyArn } },
        processingConfiguration: {
          enabled: true,
          processors: [{ type: 'AppendDelimiterToRecord', parameters: [{ parameterName: 'Delimiter', parameterValue: '\\n' }] }],
        },
        cloudWatchLoggingOptions: { enabled: true, logGroupName: logGroup.logGroupName, logStreamName: logStream.logStreamName },
      },
    });
    return stream;
  }

  private restApi(deploy: DeploySettings, spec: TableSpec, key: kms.IKey): apigateway.RestApi {
    const accessLogs = new logs.LogGroup(this, 'ApiAccessLogs', { retention: deploy.lambda.logRetentionDays, removalPolicy: RemovalPolicy.DESTROY });
    const origins = deploy.allowedOrigins;
    const api = new apigateway.RestApi(this, 'Api', {
      restApiName: 'clicklake-events',
      description: 'clicklake collection endpoint: POST /events -> Firehose',
      endpointConfiguration: { types: [apigateway.EndpointType.REGIONAL] },
      cloudWatchRole: true,
      cloudWatchRoleRemovalPolicy: RemovalPolicy.DESTROY,
      deployOptions: {
        stageName: 'v1',
        throttlingRateLimit: deploy.throttle.rateLimit,
        throttlingBurstLimit: deploy.throttle.burstLimit,
        accessLogDestination: new apigateway.LogGroupLogDestination(accessLogs),
        accessLogFormat: apigateway.AccessLogFormat.jsonWithStandardFields(),
        loggingLevel: apigateway.MethodLoggingLevel.ERROR,
        metricsEnabled: true,
        tracingEnabled: true,
      },
    });
    if (deploy.domain) {
      api.addDomainName('Domain', {
        domainName: deploy.domain.name,
        certificate: acm.Certificate.fromCertificateArn(this, 'Certificate', deploy.domain.certificateArn),
        endpointType: apigateway.EndpointType.REGIONAL,
        securityPolicy: apigateway.SecurityPolicy.TLS_1_2,
      });
    }

    const generated = requestModel(spec);
    const model = api.addModel('EventsRequest', { contentType: 'application/json', modelName: 'EventsRequest', schema: { type: apigateway.JsonSchemaType.OBJECT } });
    // The generated draft-4 document exactly, not CDK's re-mapping of it.
    (model.node.defaultChild as apigateway.CfnModel).schema = generated.model;
    const validator = api.addRequestValidator('BodyValidator', { requestValidatorName: 'events-body', validateRequestBody: true, validateRequestParameters: false });

    const role = new iam.Role(this, 'ApiToFirehoseRole', {
      assumedBy: new iam.ServicePrincipal('apigateway.amazonaws.com'),
      description: `clicklake: API Gateway puts records on ${this.streamName}`,
      inlinePolicies: {
        putRecord: new iam.PolicyDocument({
          statements: [
            new iam.PolicyStatement({ actions: ['firehose:PutRecord'], resources: [this.stream.attrArn] }),
            new iam.PolicyStatement({ actions: ['kms:GenerateDataKey'], resources: [key.keyArn] }),
          ],
        }),
      },
    });
    const template = putRecordTemplate(this.streamName);
    const corsOrigin = origins.length === 1 || origins.includes('*') ? `'${origins.includes('*') ? '*' : origins[0]}'` : undefined;
    const integration = new apigateway.AwsIntegration({
      service: 'firehose',
      action: 'PutRecord',
      integrationHttpMethod: 'POST',
      options: {
        credentialsRole: role,
        passthroughBehavior: apigateway.PassthroughBehavior.NEVER,
        requestParameters: { 'integration.request.header.Content-Type': "'application/x-amz-json-1.1'" },
        requestTemplates: Object.fromEntries(JSON_TYPES.map((t) => [t, template])),
        integrationResponses: [
          {
            statusCode: '200',
            responseTemplates: { 'application/json': acceptedTemplate(origins) },
            ...(corsOrigin ? { responseParameters: { 'method.response.header.Access-Control-Allow-Origin': corsOrigin } } : {}),
          },
          // Firehose refuses a record over its 1,000 KiB limit with a 400.
          { selectionPattern: '4\\d{2}', statusCode: '413', responseTemplates: { 'application/json': `{"message": "the record was refused by Firehose: at most ${MAX_BODY_BYTES} bytes (1,000 KiB) per request"}` } },
          { selectionPattern: '5\\d{2}', statusCode: '503', responseTemplates: { 'application/json': '{"message": "Firehose is unavailable: retry with backoff"}' } },
        ],
      },
    });
    const responseHeaders = corsOrigin ? { 'method.response.header.Access-Control-Allow-Origin': true } : undefined;
    const events = api.root.addResource('events');
    if (origins.length > 0) {
      events.addCorsPreflight({ allowOrigins: origins.includes('*') ? apigateway.Cors.ALL_ORIGINS : origins, allowMethods: ['POST', 'OPTIONS'], allowHeaders: ['Content-Type'], maxAge: Duration.minutes(10) });
    }
    events.addMethod('POST', integration, {
      requestValidator: validator,
      requestModels: Object.fromEntries(JSON_TYPES.map((t) => [t, model])),
      methodResponses: ['200', '413', '503'].map((statusCode) => ({ statusCode, ...(responseHeaders ? { responseParameters: responseHeaders } : {}) })),
    });

    // The contract's error answers, with CORS so a browser can read them.
    const errorHeaders: Record<string, string> = origins.length === 0 ? {} : { 'Access-Control-Allow-Origin': corsOrigin ?? 'method.request.header.origin' };
    const answer = (type: apigateway.ResponseType, statusCode: string, message: string): void => {
      api.addGatewayResponse(`Answer${statusCode}${type.responseType}`, { type, statusCode, responseHeaders: errorHeaders, templates: { 'application/json': message } });
    };
    answer(apigateway.ResponseType.BAD_REQUEST_BODY, '400', '{"message": "the body does not match the request model", "errors": ["$context.error.validationErrorString"]}');
    answer(apigateway.ResponseType.REQUEST_TOO_LARGE, '413', '{"message": "$context.error.messageString"}');
    answer(apigateway.ResponseType.UNSUPPORTED_MEDIA_TYPE, '415', '{"message": "send the events as application/json or text/plain"}');
    answer(apigateway.ResponseType.THROTTLED, '429', '{"message": "Too Many Requests"}');
    answer(apigateway.ResponseType.DEFAULT_5XX, '503', '{"message": "$context.error.messageString: retry with backoff"}');
    return api;
  }
}

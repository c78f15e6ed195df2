/**
 * Monitoring of the whole path, to one SNS topic (mailed to `deploy.alarmEmail`): API errors,
 * Firehose freshness and failed deliveries, Lambda errors and duration near its timeout, the
 * dead-letter queue, compaction lag and the rejected share (the handler's EMF metrics), and a
 * dashboard of the same.
 */
import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as apigateway from 'aws-cdk-lib/aws-apigateway';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { METRICS_NAMESPACE } from '../compaction/lambda/metrics.js';
import type { DeploySettings } from './config.js';

export interface MonitoringProps {
  deploy: DeploySettings;
  table: string;
  api: apigateway.RestApi;
  streamName: string;
  fn: lambda.Function;
  dlq: sqs.Queue;
  key: kms.IKey;
}

export class Monitoring extends Construct {
  readonly topic: sns.Topic;
  readonly alarms: cloudwatch.Alarm[] = [];

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    const { deploy } = props;
    this.topic = new sns.Topic(this, 'Alarms', { displayName: 'clicklake alarms', masterKey: props.key, enforceSSL: true });
    if (deploy.alarmEmail) this.topic.addSubscription(new subscriptions.EmailSubscription(deploy.alarmEmail));
    const period = Duration.minutes(5);
    const firehose = (metricName: string, statistic: string): cloudwatch.Metric =>
      new cloudwatch.Metric({ namespace: 'AWS/Firehose', metricName, dimensionsMap: { DeliveryStreamName: props.streamName }, statistic, period });
    const own = (metricName: string, statistic: string): cloudwatch.Metric =>
      new cloudwatch.Metric({ namespace: METRICS_NAMESPACE, metricName, dimensionsMap: { Table: props.table }, statistic, period: Duration.minutes(15) });

    const api5xx = props.api.metricServerError({ period, statistic: 'Average' });
    const api4xx = props.api.metricClientError({ period, statistic: 'Average' });
    const freshness = firehose('DeliveryToS3.DataFreshness', 'Maximum');
    const delivered = firehose('DeliveryToS3.Success', 'Minimum');
    const errors = props.fn.metricErrors({ period, statistic: 'Sum' });
    const duration = props.fn.metricDuration({ period, statistic: 'Maximum' });
    const dlqDepth = props.dlq.metricApproximateNumberOfMessagesVisible({ period, statistic: 'Maximum' });
    const lag = own('CompactionLagMinutes', 'Maximum');
    const rejectedShare = new cloudwatch.MathExpression({
      expression: 'IF(recordsIn > 0, rejected / recordsIn, 0)',
      usingMetrics: { rejected: own('RecordsRejected', 'Sum'), recordsIn: own('RecordsIn', 'Sum') },
      period: Duration.minutes(15),
      label: 'rejected share',
    });

    const alarm = (name: string, metric: cloudwatch.IMetric, threshold: number, description: string, options: Partial<cloudwatch.CreateAlarmOptions> = {}): void => {
      const a = new cloudwatch.Alarm(this, name, {
        metric,
        alarmName: `clicklake-${name}`,
        alarmDescription: description,
        threshold,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        ...options,
      });
      a.addAlarmAction(new actions.SnsAction(this.topic));
      a.addOkAction(new actions.SnsAction(this.topic));
      this.alarms.push(a);
    };
    alarm('Api5xxRate', api5xx, 0.01, 'More than 1% of POST /events answered 5xx: events are being refused (clients retry)');
    alarm('Api4xxRate', api4xx, 0.05, 'More than 5% of POST /events answered 4xx: a client sends invalid or oversized events');
    alarm('FirehoseFreshness', freshness, deploy.firehose.bufferIntervalSeconds + 900, 'Firehose holds records older than its buffer interval + 15 min: delivery to S3 is failing');
    alarm('FirehoseDeliveryFailed', delivered, 1, 'Firehose failed deliveries to S3 (see its error prefix and delivery log)', { comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD });
    alarm('CompactionErrors', errors, 0, 'The compaction Lambda failed (the event is in the dead-letter queue; the next run retries the hour)');
    alarm('CompactionDurationNearTimeout', duration, deploy.lambda.timeoutSeconds * 1000 * 0.8, 'A compaction run took over 80% of its timeout: raise memory or let runs continue');
    alarm('DeadLetters', dlqDepth, 0, 'Failed compaction invocations wait in the dead-letter queue');
    alarm('CompactionLag', lag, 120, 'The oldest closed hour not yet compacted is over 2 hours old (or the Lambda stopped reporting)', { treatMissingData: cloudwatch.TreatMissingData.BREACHING, evaluationPeriods: 2 });
    alarm('RejectedShare', rejectedShare, 0.05, 'Over 5% of records were rejected by compaction: see the errors zone for the reasons');

    new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: 'clicklake',
      widgets: [
        [new cloudwatch.GraphWidget({ title: 'API error rates', left: [api5xx, api4xx] }), new cloudwatch.GraphWidget({ title: 'API requests', left: [props.api.metricCount({ period })] })],
        [new cloudwatch.GraphWidget({ title: 'Firehose freshness (s)', left: [freshness] }), new cloudwatch.GraphWidget({ title: 'Firehose records in', left: [firehose('IncomingRecords', 'Sum')] })],
        [new cloudwatch.GraphWidget({ title: 'Compaction records', left: [own('RecordsIn', 'Sum'), own('RecordsWritten', 'Sum'), own('RecordsRejected', 'Sum')] }), new cloudwatch.GraphWidget({ title: 'Compaction lag (min) and rejected share', left: [lag], right: [rejectedShare] })],
        [new cloudwatch.GraphWidget({ title: 'Lambda errors and duration', left: [errors], right: [duration] }), new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms: this.alarms })],
      ],
    });
  }
}

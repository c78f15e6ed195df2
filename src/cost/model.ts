/**
 * The monthly bill of the deployed system for a workload, line by line, and beside it what the
 * compaction step would cost done another way. Pure: workload and prices in, bill out.
 *
 * Conventions (stated so the numbers can be checked by hand):
 *   - a month is 30 days (720 hours);
 *   - GB is 2^30 bytes, TB 2^40 (as AWS bills), Firehose rounds each record up to 5 KB (5,120 B);
 *   - the bill shown is the one for month `months` (storage grows month by month: raw keeps
 *     `rawDays` of data, curated keeps everything, in Intelligent-Tiering: the newest month in the
 *     frequent tier, older months in the infrequent one; the replica keeps what the lake keeps, in
 *     `replicaStorageClass`);
 *   - raw objects are GZIP (about `rawStoredRatio` of the JSON), curated Parquet about
 *     `curatedRatio` of the JSON (measured on the benchmark hour: 35.0 MB of Parquet for 678 MB);
 *   - with S3 Bucket Keys, KMS is called about once per `kmsCallsPerObject` objects.
 */
import { DEFAULT_HOURS_PER_BRANCH } from '../compaction/fanout/plan.js';
import type { Prices } from './prices.js';

export const FIREHOSE_RECORD_ROUNDING = 5 * 1024;
const GB = 2 ** 30;
const TB = 2 ** 40;
export const HOURS_PER_MONTH = 720;
const MINUTES_PER_MONTH = HOURS_PER_MONTH * 60;
const ATHENA_MIN_BYTES = 10 * 2 ** 20;
const GLUE_JOB_MINIMUM_SECONDS = 60;
/** A Distributed Map item (a branch): the map iteration's start, the Lambda task, its success (and a margin). */
const STATE_TRANSITIONS_PER_BRANCH = 4;
/** DPUs of a crawler run: the Glue pricing page's example (AWS decides them, not the user). */
const GLUE_CRAWLER_DPU = 2;

export interface Workload {
  eventsPerMinute: number;
  eventBytes: number;
  /** Events per request and per Firehose record. */
  batchEvents: number;
  ingestion: 'api-gateway' | 'cognito';
  /** The month whose bill is shown (storage grows until the lifecycle rules cap it). */
  months: number;
  queriesPerDay: number;
  /** Bytes one view query scans; default: one day of curated data. */
  bytesPerQuery?: number;
  /** Compaction speed at the deployed memory size: seconds per million events. */
  compactionSecondsPerMillion: number;
  lambdaMemoryMb: number;
  rawDays: number;
  errorsDays: number;
  replicaStorageClass: 'STANDARD' | 'STANDARD_IA';
  /** Share of events rejected into the errors zone. */
  rejectShare: number;
  firehoseBufferSeconds: number;
  firehoseBufferBytes: number;
  scheduleMinutes: number;
  rawStoredRatio: number;
  curatedRatio: number;
  kmsCallsPerObject: number;
  backfillHours?: number;
  backfillConcurrency: number;
  /** Hours each branch of the fan-out compacts, one after another (compact --hours-per-branch). */
  backfillHoursPerBranch: number;
}

export const DEFAULT_WORKLOAD: Workload = {
  eventsPerMinute: 5000,
  eventBytes: 700,
  batchEvents: 25,
  ingestion: 'api-gateway',
  months: 12,
  queriesPerDay: 100,
  compactionSecondsPerMillion: 18.4,
  lambdaMemoryMb: 3538,
  rawDays: 90,
  errorsDays: 90,
  replicaStorageClass: 'STANDARD_IA',
  rejectShare: 0.001,
  firehoseBufferSeconds: 300,
  firehoseBufferBytes: 64 * 2 ** 20,
  scheduleMinutes: 15,
  rawStoredRatio: 0.2,
  curatedRatio: 35.0 / 678.3,
  kmsCallsPerObject: 0.01,
  backfillConcurrency: 50,
  backfillHoursPerBranch: DEFAULT_HOURS_PER_BRANCH,
};

export interface BillLine {
  service: string;
  item: string;
  monthlyUsd: number;
}

/**
 * Another way to do clicklake's compaction step at the same traffic, and the part of clicklake's
 * bill it replaces: the Lambda alone where ingestion stays the same (a Glue job reads the same
 * batched raw objects), batched ingestion plus the Lambda where the alternative changes ingestion
 * too (Firehose's conversion reads one JSON object per record, so it forces one event per record
 * and the 5 KB rounding on each).
 */
export interface Alternative {
  name: string;
  monthlyUsd: number;
  /** What clicklake spends on the same part of the work. */
  replaces: 'compaction Lambda' | 'batched ingestion + compaction Lambda' | 'partition projection';
  clicklakeMonthlyUsd: number;
  /** monthlyUsd / clicklakeMonthlyUsd (null when clicklake's part is free). */
  timesClicklake: number | null;
}

export interface Bill {
  lines: BillLine[];
  totalMonthlyUsd: number;
  /** clicklake's compaction step: the Lambda's GB-seconds and invocations. */
  compactionStepUsd: number;
  /** Batched Firehose ingestion (and API Gateway's requests, when used) plus the compaction step. */
  ingestionAndCompactionUsd: number;
  alternatives: Alternative[];
  /** Recompacting `hours` hours (each of this workload's size) at the measured speed. */
  backfill?: {
    hours: number;
    concurrency: number;
    hoursPerBranch: number;
    unitSeconds: number;
    /** With the fan-out: `concurrency` Lambdas at once. */
    wallSeconds: number;
    /** One Lambda, hour after hour. */
    serialWallSeconds: number;
    lambdaUsd: number;
    stepFunctionsUsd: number;
    /** One 2 DPU Glue Spark job per hour, at least its 1-minute minimum. */
    glueSparkUsd: number;
  };
}

/** Bytes Firehose bills for one record of `bytes`. */
export function firehoseBilledBytes(bytes: number): number {
  return Math.ceil(bytes / FIREHOSE_RECORD_ROUNDING) * FIREHOSE_RECORD_ROUNDING;
}

/** Firehose ingestion of a month's events sent `perRecord` to a record. */
function firehoseIngestionUsd(w: Workload, perRecord: number, prices: Prices): number {
  const records = (w.eventsPerMinute * MINUTES_PER_MONTH) / perRecord;
  return ((records * firehoseBilledBytes(perRecord * w.eventBytes)) / GB) * prices.firehoseIngestionPerGB;
}

export function monthlyBill(w: Workload, prices: Prices): Bill {
  const events = w.eventsPerMinute * MINUTES_PER_MONTH;
  const jsonBytes = events * w.eventBytes;
  const requests = events / w.batchEvents;
  const lines: BillLine[] = [];
  const add = (service: string, item: string, monthlyUsd: number): void => {
    lines.push({ service, item, monthlyUsd });
  };

  if (w.ingestion === 'api-gateway') {
    add('API Gateway', `${fmt(requests)} REST requests of ${w.batchEvents} events`, (requests / 1e6) * prices.apiGatewayRestPerMillionRequests);
  } else {
    add('Cognito', `unauthenticated identities calling Firehose PutRecordBatch directly (identity pools are free)`, 0);
  }
  const ingestionUsd = firehoseIngestionUsd(w, w.batchEvents, prices);
  add('Firehose', `${fmt(requests)} records of ${w.batchEvents} events (${fmt(w.batchEvents * w.eventBytes)} B), each billed as ${fmt(firehoseBilledBytes(w.batchEvents * w.eventBytes))} B`, ingestionUsd);

  // Storage in month `months`: raw keeps rawDays, errors errorsDays, curated everything.
  const monthDays = 30;
  const rawMonthly = jsonBytes * w.rawStoredRatio;
  const curatedMonthly = jsonBytes * w.curatedRatio;
  const errorsMonthly = jsonBytes * w.rejectShare;
  const rawStored = rawMonthly * Math.min(w.months * monthDays, w.rawDays) / monthDays;
  const errorsStored = errorsMonthly * Math.min(w.months * monthDays, w.errorsDays) / monthDays;
  const curatedFrequent = curatedMonthly;
  const curatedInfrequent = curatedMonthly * (w.months - 1);
  add('S3', `raw zone, ${gb(rawStored)} GB Standard (expires after ${w.rawDays} days)`, (rawStored / GB) * prices.s3StandardPerGBMonth);
  add('S3', `curated zone, ${gb(curatedFrequent)} GB Intelligent-Tiering frequent`, (curatedFrequent / GB) * prices.s3IntelligentTieringFrequentPerGBMonth);
  add('S3', `curated zone, ${gb(curatedInfrequent)} GB Intelligent-Tiering infrequent (older than 30 days)`, (curatedInfrequent / GB) * prices.s3IntelligentTieringInfrequentPerGBMonth);
  add('S3', `errors zone, ${gb(errorsStored)} GB Standard (expires after ${w.errorsDays} days)`, (errorsStored / GB) * prices.s3StandardPerGBMonth);
  const curatedObjects = HOURS_PER_MONTH * w.months * 1.1; // one file per unit and event date, a few units touch two
  add('S3', `Intelligent-Tiering monitoring of ${fmt(curatedObjects)} curated objects`, (curatedObjects / 1000) * prices.s3IntelligentTieringMonitoringPer1000Objects);

  // Requests: Firehose flushes by interval or size; each unit lists, reads its objects, writes outputs, errors, manifest.
  const bytesPerHour = jsonBytes / HOURS_PER_MONTH;
  const objectsPerHour = Math.max(3600 / w.firehoseBufferSeconds, Math.ceil(bytesPerHour / w.firehoseBufferBytes));
  const rawObjects = objectsPerHour * HOURS_PER_MONTH;
  const puts = rawObjects + HOURS_PER_MONTH * (1.1 + 2) + HOURS_PER_MONTH * 3; // outputs + errors + manifest, lists
  const gets = rawObjects + HOURS_PER_MONTH * (60 / w.scheduleMinutes) * 2; // raw reads, manifest checks per run
  add('S3', `${fmt(puts)} PUT/LIST requests`, (puts / 1000) * prices.s3PutPer1000);
  add('S3', `${fmt(gets)} GET/HEAD requests`, (gets / 1000) * prices.s3GetPer1000);

  const kmsCalls = (rawObjects + puts + gets) * w.kmsCallsPerObject;
  add('KMS', '2 customer managed keys (lake, backup)', 2 * prices.kmsKeyPerMonth);
  add('KMS', `${fmt(kmsCalls)} requests (S3 Bucket Keys)`, (kmsCalls / 10_000) * prices.kmsPer10000Requests);

  const writtenBytes = rawMonthly + curatedMonthly + errorsMonthly;
  add('S3 replication', `${gb(writtenBytes)} GB to the backup Region`, (writtenBytes / GB) * prices.s3InterRegionTransferPerGB);
  const replicaStored = rawStored + curatedFrequent + curatedInfrequent + errorsStored;
  const replicaPrice = w.replicaStorageClass === 'STANDARD' ? prices.s3StandardPerGBMonth : prices.s3StandardIaPerGBMonth;
  add('S3 replication', `replica, ${gb(replicaStored)} GB ${w.replicaStorageClass}`, (replicaStored / GB) * replicaPrice);

  const lambdaSeconds = (events / 1e6) * w.compactionSecondsPerMillion;
  const lambdaUsd = lambdaSeconds * (w.lambdaMemoryMb / 1024) * prices.lambdaArmPerGBSecond;
  const invocations = HOURS_PER_MONTH * (60 / w.scheduleMinutes);
  add('Lambda', `compaction, ${fmt(lambdaSeconds)} s at ${w.lambdaMemoryMb} MB (${w.compactionSecondsPerMillion.toFixed(1)} s per million events)`, lambdaUsd);
  add('Lambda', `${fmt(invocations)} scheduled invocations`, (invocations / 1e6) * prices.lambdaPerMillionRequests);
  add('Glue', 'Data Catalog: 2 tables with partition projection (within the free first million objects)', 0);

  const bytesPerQuery = Math.max(w.bytesPerQuery ?? curatedMonthly / monthDays, ATHENA_MIN_BYTES);
  const queries = w.queriesPerDay * monthDays;
  add('Athena', `${fmt(queries)} view queries of ${mb(bytesPerQuery)} MB`, ((queries * bytesPerQuery) / TB) * prices.athenaPerTBScanned);

  const totalMonthlyUsd = lines.reduce((sum, l) => sum + l.monthlyUsd, 0);
  const compactionStepUsd = lambdaUsd + (invocations / 1e6) * prices.lambdaPerMillionRequests;
  const ingestionAndCompactionUsd = ingestionUsd + compactionStepUsd;

  const convertedGb = (events * firehoseBilledBytes(w.eventBytes)) / GB;
  const oneEventIngestion = firehoseIngestionUsd(w, 1, prices);
  // Glue 2.0+ bills Spark jobs per second with a 1-minute minimum: the minimum is a floor on
  // the real cost (a job also pays for its start-up and runs longer than a minute on real data).
  const glueJobUsd = (dpu: number): number => HOURS_PER_MONTH * dpu * (GLUE_JOB_MINIMUM_SECONDS / 3600) * prices.glueDpuHour;
  const alternative = (name: string, monthlyUsd: number, replaces: Alternative['replaces']): Alternative => {
    const clicklakeMonthlyUsd = replaces === 'compaction Lambda' ? compactionStepUsd : replaces === 'partition projection' ? 0 : ingestionAndCompactionUsd;
    return { name, monthlyUsd, replaces, clicklakeMonthlyUsd, timesClicklake: clicklakeMonthlyUsd > 0 ? monthlyUsd / clicklakeMonthlyUsd : null };
  };
  const alternatives: Alternative[] = [
    alternative('Glue Spark job hourly, 2 DPU, 1-minute minimum', glueJobUsd(2), 'compaction Lambda'),
    alternative('Glue Spark job hourly, 10 DPU (the default), 1-minute minimum', glueJobUsd(10), 'compaction Lambda'),
    alternative('Firehose record-format conversion: one event per record + conversion fee', oneEventIngestion + convertedGb * prices.firehoseFormatConversionPerGB, 'batched ingestion + compaction Lambda'),
    alternative(
      'Firehose conversion + dynamic partitioning: one event per record + both fees',
      oneEventIngestion + convertedGb * (prices.firehoseFormatConversionPerGB + prices.firehoseDynamicPartitioningPerGB) + (rawObjects / 1000) * prices.firehoseDynamicPartitioningPer1000Objects,
      'batched ingestion + compaction Lambda',
    ),
    alternative(`Glue crawler hourly, ${GLUE_CRAWLER_DPU} DPU, 10-minute minimum (catalog only)`, HOURS_PER_MONTH * GLUE_CRAWLER_DPU * (10 / 60) * prices.glueDpuHour, 'partition projection'),
  ];

  const bill: Bill = { lines, totalMonthlyUsd, compactionStepUsd, ingestionAndCompactionUsd, alternatives };
  if (w.backfillHours !== undefined) {
    const unitSeconds = ((w.eventsPerMinute * 60) / 1e6) * w.compactionSecondsPerMillion;
    // The fan-out's branches hold distinct hours, compacted one after another by one invocation.
    const branches = Math.ceil(w.backfillHours / w.backfillHoursPerBranch);
    const lambdaUsd = w.backfillHours * unitSeconds * (w.lambdaMemoryMb / 1024) * prices.lambdaArmPerGBSecond + (branches / 1e6) * prices.lambdaPerMillionRequests;
    bill.backfill = {
      hours: w.backfillHours,
      concurrency: w.backfillConcurrency,
      hoursPerBranch: w.backfillHoursPerBranch,
      unitSeconds,
      wallSeconds: Math.ceil(branches / w.backfillConcurrency) * w.backfillHoursPerBranch * unitSeconds,
      serialWallSeconds: w.backfillHours * unitSeconds,
      lambdaUsd,
      stepFunctionsUsd: ((branches * STATE_TRANSITIONS_PER_BRANCH) / 1000) * prices.stepFunctionsPer1000Transitions,
      glueSparkUsd: w.backfillHours * 2 * (Math.max(GLUE_JOB_MINIMUM_SECONDS, unitSeconds) / 3600) * prices.glueDpuHour,
    };
  }
  return bill;
}

function fmt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}
function gb(bytes: number): string {
  return (bytes / GB).toFixed(1);
}
function mb(bytes: number): string {
  return (bytes / 2 ** 20).toFixed(0);
}

/**
 * The handler's CloudWatch metrics as one Embedded Metric Format log line per run: CloudWatch
 * Logs turns it into metrics, so the Lambda makes no PutMetricData calls (and needs no permission
 * for them). The deploy app's alarms read these names.
 */
import { HOUR_MS } from '../../partitions/hours.js';
import type { RunSummary } from '../schedule/run.js';

export const METRICS_NAMESPACE = 'clicklake';

/**
 * Compaction lag: minutes since the end of the oldest closed hour still waiting (deferred by the
 * time budget), 0 when every closed hour is compacted.
 */
export function compactionLagMinutes(summary: Pick<RunSummary, 'deferred'>, now: number): number {
  if (summary.deferred.length === 0) return 0;
  const oldest = Math.min(...summary.deferred.map((h) => Date.parse(`${h}:00:00Z`)));
  return Number.isFinite(oldest) ? Math.max(0, (now - (oldest + HOUR_MS)) / 60_000) : 0;
}

export function metricsLine(table: string, summary: RunSummary, now: number): string {
  const t = summary.totals;
  return JSON.stringify({
    _aws: {
      Timestamp: now,
      CloudWatchMetrics: [
        {
          Namespace: METRICS_NAMESPACE,
          Dimensions: [['Table']],
          Metrics: [
            { Name: 'RecordsIn', Unit: 'Count' },
            { Name: 'RecordsWritten', Unit: 'Count' },
            { Name: 'RecordsRejected', Unit: 'Count' },
            { Name: 'RecordsDuplicate', Unit: 'Count' },
            { Name: 'UnitsCompacted', Unit: 'Count' },
            { Name: 'UnitsDeferred', Unit: 'Count' },
            { Name: 'CompactionLagMinutes', Unit: 'None' },
          ],
        },
      ],
    },
    Table: table,
    RecordsIn: t.recordsIn,
    RecordsWritten: t.written,
    RecordsRejected: t.rejected,
    RecordsDuplicate: t.duplicates,
    UnitsCompacted: summary.units.length,
    UnitsDeferred: summary.deferred.length,
    CompactionLagMinutes: compactionLagMinutes(summary, now),
  });
}

/** The compaction handler's Embedded Metric Format line: the names and values the deploy app's alarms read. */
import { describe, expect, it } from 'vitest';
import { compactionLagMinutes, metricsLine, METRICS_NAMESPACE } from '../src/compaction/lambda/metrics.js';
import type { RunSummary } from '../src/compaction/schedule/run.js';

const totals = { recordsIn: 1000, written: 950, duplicates: 20, rejected: 30, bytesIn: 1, bytesOut: 1, files: 2, durationMs: 5 };

describe('compaction metrics (EMF)', () => {
  it('declares each metric under the clicklake namespace with the Table dimension, and carries the run totals', () => {
    const now = Date.parse('2024-05-01T13:30:00Z');
    const summary = { units: [{}, {}], deferred: ['2024-05-01T10', '2024-05-01T11'], totals } as unknown as RunSummary;
    const line = JSON.parse(metricsLine('click_events', summary, now)) as Record<string, unknown> & { _aws: { Timestamp: number; CloudWatchMetrics: Array<{ Namespace: string; Dimensions: string[][]; Metrics: Array<{ Name: string }> }> } };
    const [directive] = line._aws.CloudWatchMetrics;
    expect(directive!.Namespace).toBe(METRICS_NAMESPACE);
    expect(directive!.Dimensions).toEqual([['Table']]);
    for (const m of directive!.Metrics) expect(typeof line[m.Name], m.Name).toBe('number');
    expect(line).toMatchObject({ Table: 'click_events', RecordsIn: 1000, RecordsWritten: 950, RecordsRejected: 30, RecordsDuplicate: 20, UnitsCompacted: 2, UnitsDeferred: 2 });
    // The oldest waiting hour (10:00-11:00) ended 150 minutes before 13:30.
    expect(line['CompactionLagMinutes']).toBe(150);
    expect(line._aws.Timestamp).toBe(now);
  });

  it('reports no lag when every closed hour was compacted', () => {
    expect(compactionLagMinutes({ deferred: [] }, Date.now())).toBe(0);
  });
});

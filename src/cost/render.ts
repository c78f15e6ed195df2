/** The bill as text: one aligned table of line items, one of the alternatives, one of a backfill. */
import type { Bill } from './model.js';

function aligned(header: string[], rows: string[][], rightAligned: ReadonlySet<number>): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]): string => cells.map((c, i) => (rightAligned.has(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

/** Dollars to the cent, below a cent to four decimals so small lines do not show as 0.00. */
export function usd(n: number): string {
  if (n === 0) return '0.00';
  return n < 0.01 ? n.toFixed(4) : n.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
}

export function renderBill(bill: Bill, heading: string[]): string {
  const out: string[] = [...heading, ''];
  const rows = bill.lines.map((l) => [l.service, l.item, usd(l.monthlyUsd)]);
  rows.push(['total', '', usd(bill.totalMonthlyUsd)]);
  out.push(aligned(['service', 'item', 'USD/month'], rows, new Set([2])));
  out.push('', `The compaction step another way (the same Parquet from the same traffic); clicklake's step: ${usd(bill.compactionStepUsd)} USD/month, with its batched ingestion ${usd(bill.ingestionAndCompactionUsd)}:`, '');
  out.push(
    aligned(
      ['alternative', 'USD/month', 'against clicklake\'s', 'USD/month', 'x clicklake'],
      bill.alternatives.map((a) => [a.name, usd(a.monthlyUsd), a.replaces, usd(a.clicklakeMonthlyUsd), a.timesClicklake === null ? 'n/a' : `${a.timesClicklake.toFixed(1)}x`]),
      new Set([1, 3, 4]),
    ),
  );
  if (bill.backfill) {
    const b = bill.backfill;
    out.push('', `Recompacting ${b.hours.toLocaleString('en-US')} hours:`, '');
    out.push(
      aligned(
        ['how', 'wall time', 'USD'],
        [
          [`fan-out: Step Functions Distributed Map, ${b.concurrency} Lambdas at once, ${b.hoursPerBranch} hours each`, duration(b.wallSeconds), usd(b.lambdaUsd + b.stepFunctionsUsd)],
          ['one Lambda, hour after hour (the schedule)', duration(b.serialWallSeconds), usd(b.lambdaUsd)],
          ['Glue Spark, one 2 DPU job per hour, 1-minute minimum', 'n/a', usd(b.glueSparkUsd)],
        ],
        new Set([1, 2]),
      ),
    );
  }
  return `${out.join('\n')}\n`;
}

export function duration(seconds: number): string {
  if (seconds < 120) return `${seconds.toFixed(0)} s`;
  if (seconds < 7200) return `${(seconds / 60).toFixed(1)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}

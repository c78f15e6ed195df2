/**
 * Human-readable text of a catalog plan, an apply's results and a dry run's Glue calls
 * (terraform-like: `+` create, `~` update in place, `!` breaking).
 */
import type { Column } from '@aws-sdk/client-glue';
import { changeTarget, type CatalogChange, type PropertyChange } from './changes.js';
import type { ChangeResult } from './apply.js';
import type { GlueCall } from './render.js';

const columnText = (c: Column): string => `${c.Name} ${c.Type}`;
const valueText = (v: string | null): string => (v === null ? '(none)' : JSON.stringify(v));

function propertyName(p: PropertyChange): string {
  if (p.field === 'Parameters') return `Parameters[${JSON.stringify(p.key)}]`;
  if (p.field === 'SerdeParameters') return `SerdeInfo.Parameters[${JSON.stringify(p.key)}]`;
  if (p.field === 'ColumnComment') return `column ${p.key} comment`;
  return p.field;
}

/** One change as one line, or a head line and indented detail lines. */
const DESCRIBE: { [T in CatalogChange['type']]: (change: Extract<CatalogChange, { type: T }>) => string[] } = {
  create_database: (c) => [`+ create database ${c.database}`],
  create_table: (c) => [
    `+ create table ${changeTarget(c)} (${c.input.StorageDescriptor?.Columns?.length ?? 0} columns, partitioned by ${(c.input.PartitionKeys ?? []).map(columnText).join(', ') || 'nothing'})`,
  ],
  add_columns: (c) => [`~ add columns to ${changeTarget(c)}: ${c.columns.map(({ column }) => columnText(column)).join(', ')}`],
  update_table_properties: (c) => [
    `~ update table properties of ${changeTarget(c)}:`,
    ...c.properties.map((p) => `    ${propertyName(p)}: ${valueText(p.from)} -> ${valueText(p.to)}`),
  ],
  change_column_type: (c) =>
    c.breaking
      ? [`! breaking: change column type ${changeTarget(c)}.${c.column}: ${c.from} -> ${c.to} (existing data files cannot be read as the new type)`]
      : [`~ widen column type ${changeTarget(c)}.${c.column}: ${c.from} -> ${c.to}`],
  drop_column: (c) => [`! breaking: drop column ${changeTarget(c)}.${c.column} (queries that read it will fail)`],
  rename_column: (c) => [`! breaking: rename column ${changeTarget(c)}.${c.from} -> ${c.to} (existing Parquet files keep the old name: old rows read NULL)`],
  change_partition_keys: (c) => [
    `! breaking: change partition keys of ${changeTarget(c)}: (${c.from.map(columnText).join(', ')}) -> (${c.to.map(columnText).join(', ')})`,
  ],
};

/** The lines describing one change. */
export function describeChange(change: CatalogChange): string[] {
  return (DESCRIBE[change.type] as (c: CatalogChange) => string[])(change);
}

/** Counts for the summary line. */
export function summarizeChanges(changes: CatalogChange[]): { create: number; update: number; breaking: number } {
  return {
    create: changes.filter((c) => c.type === 'create_database' || c.type === 'create_table').length,
    update: changes.filter((c) => c.type !== 'create_database' && c.type !== 'create_table').length,
    breaking: changes.filter((c) => c.breaking).length,
  };
}

/**
 * The plan as text.
 *
 * @example
 * io.stdout.write(renderPlanText(plan.changes, 'clicklake'));
 * // + create database clicklake
 * // + create table clicklake.click_events_raw (24 columns, partitioned by dt string)
 * // Plan: 3 to create, 0 to update, 0 breaking.
 */
export function renderPlanText(changes: CatalogChange[], database: string): string {
  if (changes.length === 0) return `No changes. Glue database ${database} matches the schemas.\n`;
  const { create, update, breaking } = summarizeChanges(changes);
  const lines = changes.flatMap(describeChange);
  lines.push('', `Plan: ${create} to create, ${update} to update, ${breaking} breaking.`);
  if (breaking > 0) lines.push('Breaking changes are applied only with `clicklake catalog apply --allow-breaking`.');
  return `${lines.join('\n')}\n`;
}

/** One line per change with its status, then a summary. */
export function renderApplyText(results: ChangeResult[]): string {
  const width = 'notExecuted'.length;
  const lines = results.map((r) => `${r.status.padEnd(width)}  ${describeChange(r.change)[0]}${r.error ? `  (${r.error.code}: ${r.error.message})` : ''}`);
  const count = (s: ChangeResult['status']): number => results.filter((r) => r.status === s).length;
  lines.push(`Apply: ${count('applied')} applied, ${count('failed')} failed, ${count('notExecuted')} not executed.`);
  return `${lines.join('\n')}\n`;
}

/** A dry run: each Glue call as `Operation` and its input JSON. */
export function renderGlueCalls(calls: GlueCall[]): string {
  if (calls.length === 0) return 'No Glue calls: nothing to change.\n';
  return `${calls.map((c) => `${c.operation} ${JSON.stringify(c.input, null, 2)}`).join('\n\n')}\n`;
}

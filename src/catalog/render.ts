/**
 * Maps a plan's changes to the Glue API calls that carry them out. Glue's UpdateTable replaces a
 * table's whole definition, so every update of one table becomes a single UpdateTable: its
 * TableInput is the plan's baseline (the live definition) with each change applied in order by
 * one converter per change type, and its VersionId is the one the changes were planned against.
 */
import type { Column, CreateDatabaseRequest, CreateTableRequest, TableInput, UpdateTableRequest } from '@aws-sdk/client-glue';
import { ClicklakeError } from '../errors.js';
import type { CatalogChange, CatalogPlan, PropertyChange, TableUpdateChange } from './changes.js';

/** One Glue request and the indexes (into `plan.changes`) of the changes it carries out. */
export type GlueCall =
  | { operation: 'CreateDatabase'; input: CreateDatabaseRequest; changes: number[] }
  | { operation: 'CreateTable'; input: CreateTableRequest; changes: number[] }
  | { operation: 'UpdateTable'; input: UpdateTableRequest; changes: number[] };

type Converter<T extends TableUpdateChange['type']> = (input: TableInput, change: Extract<TableUpdateChange, { type: T }>) => void;

const columnsOf = (input: TableInput): Column[] => {
  input.StorageDescriptor ??= {};
  input.StorageDescriptor.Columns ??= [];
  return input.StorageDescriptor.Columns;
};

const indexOf = (columns: Column[], name: string): number => columns.findIndex((c) => (c.Name ?? '').toLowerCase() === name);

function setMapEntry(map: Record<string, string> | undefined, key: string, value: string | null): Record<string, string> {
  const next = { ...(map ?? {}) };
  if (value === null) delete next[key];
  else next[key] = value;
  return next;
}

function setProperty(input: TableInput, property: PropertyChange): void {
  const sd = (input.StorageDescriptor ??= {});
  const to = property.to ?? undefined;
  switch (property.field) {
    case 'Description':
      input.Description = to;
      break;
    case 'TableType':
      input.TableType = to;
      break;
    case 'Location':
      sd.Location = to;
      break;
    case 'InputFormat':
      sd.InputFormat = to;
      break;
    case 'OutputFormat':
      sd.OutputFormat = to;
      break;
    case 'SerializationLibrary':
      sd.SerdeInfo = { ...sd.SerdeInfo, SerializationLibrary: to };
      break;
    case 'Parameters':
      input.Parameters = setMapEntry(input.Parameters, property.key!, property.to);
      break;
    case 'SerdeParameters':
      sd.SerdeInfo = { ...sd.SerdeInfo, Parameters: setMapEntry(sd.SerdeInfo?.Parameters, property.key!, property.to) };
      break;
    case 'ColumnComment': {
      const column = columnsOf(input)[indexOf(columnsOf(input), property.key!)];
      if (column) {
        if (to === undefined) delete column.Comment;
        else column.Comment = to;
      }
      break;
    }
  }
}

/** One converter per change type: each edits the TableInput in place. */
const CONVERTERS: { [T in TableUpdateChange['type']]: Converter<T> } = {
  change_partition_keys: (input, change) => {
    input.PartitionKeys = change.to.map((c) => ({ ...c }));
  },
  rename_column: (input, change) => {
    const columns = columnsOf(input);
    const at = indexOf(columns, change.from);
    if (at < 0) throw missingColumn(input, change.from);
    columns[at] = { ...change.column };
  },
  drop_column: (input, change) => {
    const columns = columnsOf(input);
    const at = indexOf(columns, change.column);
    if (at < 0) throw missingColumn(input, change.column);
    columns.splice(at, 1);
  },
  change_column_type: (input, change) => {
    const column = columnsOf(input)[indexOf(columnsOf(input), change.column)];
    if (!column) throw missingColumn(input, change.column);
    column.Type = change.to;
  },
  add_columns: (input, change) => {
    const columns = columnsOf(input);
    for (const { column, after } of change.columns) {
      // Keep the schema's order: right after the column that precedes it there, else at the end.
      const at = after === null ? 0 : indexOf(columns, after) + 1 || columns.length;
      columns.splice(at, 0, { ...column });
    }
  },
  update_table_properties: (input, change) => {
    for (const property of change.properties) setProperty(input, property);
  },
};

function missingColumn(input: TableInput, column: string): ClicklakeError {
  return new ClicklakeError('plan_inconsistent', `plan says to change column ${column} of ${input.Name}, but its baseline has no such column: make a new plan`, {
    table: input.Name,
    column,
  });
}

/**
 * A TableInput with changes applied, in order. The input is not modified.
 *
 * @example
 * const next = applyChanges(plan.baselines.click_events.input, changesOfClickEvents);
 */
export function applyChanges(input: TableInput, changes: TableUpdateChange[]): TableInput {
  const next = structuredClone(input);
  for (const change of changes) (CONVERTERS[change.type] as Converter<typeof change.type>)(next, change);
  return next;
}

/**
 * The Glue calls that carry out a plan, in order: CreateDatabase, then per table a CreateTable or
 * one UpdateTable (at the position of the table's first change).
 *
 * @throws ClicklakeError `plan_inconsistent` when a table's changes disagree on the VersionId or its baseline is missing.
 */
export function glueCalls(plan: CatalogPlan): GlueCall[] {
  const calls: GlueCall[] = [];
  const updates = new Map<string, { call: Extract<GlueCall, { operation: 'UpdateTable' }>; changes: TableUpdateChange[] }>();
  plan.changes.forEach((change: CatalogChange, index) => {
    if (change.type === 'create_database') {
      calls.push({ operation: 'CreateDatabase', input: { DatabaseInput: change.input }, changes: [index] });
      return;
    }
    if (change.type === 'create_table') {
      calls.push({ operation: 'CreateTable', input: { DatabaseName: change.database, TableInput: change.input }, changes: [index] });
      return;
    }
    const existing = updates.get(change.table);
    if (existing) {
      if (existing.call.input.VersionId !== change.versionId) {
        throw new ClicklakeError('plan_inconsistent', `changes of table ${change.table} were planned against different versions: make a new plan`, { table: change.table });
      }
      existing.call.changes.push(index);
      existing.changes.push(change);
      return;
    }
    const baseline = plan.baselines[change.table];
    if (!baseline || baseline.versionId !== change.versionId) {
      throw new ClicklakeError('plan_inconsistent', `the plan has no baseline of table ${change.table} at version ${change.versionId}: make a new plan`, { table: change.table });
    }
    const call: Extract<GlueCall, { operation: 'UpdateTable' }> = {
      operation: 'UpdateTable',
      input: { DatabaseName: change.database, TableInput: baseline.input, VersionId: change.versionId },
      changes: [index],
    };
    updates.set(change.table, { call, changes: [change] });
    calls.push(call);
  });
  for (const [table, { call, changes }] of updates) {
    call.input.TableInput = applyChanges(plan.baselines[table]!.input, changes);
  }
  return calls;
}

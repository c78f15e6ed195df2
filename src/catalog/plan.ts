/**
 * Catalog planning: a pure diff from the desired catalog (derived from the schemas) and the live
 * one (read from Glue by glue-live.ts) to a list of {@link CatalogChange}s. No I/O, no prompts:
 * whether a removed + added column pair is a rename is settled by an injected resolver, and the
 * default resolver says "never", so CI runs see a drop + add.
 */
import type { Column, DatabaseInput, TableInput } from '@aws-sdk/client-glue';
import { ClicklakeError } from '../errors.js';
import type { TableSpec } from '../schema/types.js';
import {
  isWideningTypeChange,
  normalizeGlueType,
  PLAN_FORMAT,
  type CatalogChange,
  type CatalogPlan,
  type PropertyChange,
  type TableBaseline,
} from './changes.js';
import { tableInputs, type CatalogTarget } from './table-input.js';

/** What the schemas want: one database and its tables (raw and curated per schema). */
export interface DesiredCatalog {
  database: DatabaseInput & { Name: string };
  tables: TableInput[];
}

/** What Glue holds for the desired tables. Names are lowercase (Glue stores them so). */
export interface LiveCatalog {
  database: string;
  /** False when GetDatabase said EntityNotFoundException. */
  exists: boolean;
  /** Live definitions of the desired tables that exist, by lowercase name. Other tables are not read. */
  tables: Record<string, TableBaseline>;
}

/** Columns of one table that disappeared and appeared: the resolver says which pairs are renames. */
export interface RenameCandidates {
  database: string;
  table: string;
  removed: Column[];
  added: Column[];
}

/** Decides renames. Must be pure and must not prompt; return [] for "no renames". */
export type RenameResolver = (candidates: RenameCandidates) => Array<{ from: string; to: string }>;

/** The CI / dry resolver: nothing is a rename, so a renamed column plans as drop + add. */
export const noRenames: RenameResolver = () => [];

/**
 * A resolver from explicit declarations (`--rename click_events.old_name=new_name`): only the
 * declared pairs are renames, and only when the old column is really gone and the new one really new.
 */
export function declaredRenames(declared: Array<{ table: string; from: string; to: string }>): RenameResolver {
  return ({ table, removed, added }) =>
    declared
      .filter((d) => d.table.toLowerCase() === table.toLowerCase())
      .filter((d) => removed.some((c) => c.Name === d.from.toLowerCase()) && added.some((c) => c.Name === d.to.toLowerCase()))
      .map((d) => ({ from: d.from.toLowerCase(), to: d.to.toLowerCase() }));
}

export interface PlanOptions {
  resolveRenames?: RenameResolver;
}

/** Table parameters clicklake owns even when the desired table lacks them (turning projection off removes them). */
function isManagedParameter(key: string): boolean {
  return key.startsWith('projection.') || key === 'storage.location.template';
}

const lower = (name: string | undefined): string => (name ?? '').toLowerCase();

/**
 * The changes that make `live` match `desired`, in apply order: the database first, then each
 * desired table in order; within a table partition keys, renames, drops, type changes, added
 * columns, then properties. Pure: same inputs, same changes.
 *
 * @throws ClicklakeError `bad_rename` when the resolver names a pair that is not a removed + added column.
 * @example
 * const changes = planCatalog(desiredCatalog(specs, { database: 'clicklake', target }), await readLiveCatalog(glue, 'clicklake', names));
 * if (changes.some((c) => c.breaking)) console.log('needs --allow-breaking');
 */
export function planCatalog(desired: DesiredCatalog, live: LiveCatalog, options: PlanOptions = {}): CatalogChange[] {
  const resolve = options.resolveRenames ?? noRenames;
  const database = lower(desired.database.Name);
  const changes: CatalogChange[] = [];
  if (!live.exists) changes.push({ type: 'create_database', database, input: desired.database, breaking: false, versionId: null });
  for (const input of desired.tables) {
    const table = lower(input.Name);
    const current = live.exists ? live.tables[table] : undefined;
    if (!current) {
      changes.push({ type: 'create_table', database, table, input, breaking: false, versionId: null });
      continue;
    }
    changes.push(...diffTable(database, table, input, current, resolve));
  }
  return changes;
}

function diffTable(database: string, table: string, desired: TableInput, live: TableBaseline, resolve: RenameResolver): CatalogChange[] {
  const base = { database, table, versionId: live.versionId };
  const changes: CatalogChange[] = [];

  const keysOf = (cols: Column[] | undefined): string => JSON.stringify((cols ?? []).map((c) => [lower(c.Name), normalizeGlueType(c.Type)]));
  if (keysOf(desired.PartitionKeys) !== keysOf(live.input.PartitionKeys)) {
    changes.push({ ...base, type: 'change_partition_keys', from: live.input.PartitionKeys ?? [], to: desired.PartitionKeys ?? [], breaking: true });
  }

  const wanted = desired.StorageDescriptor?.Columns ?? [];
  const existing = live.input.StorageDescriptor?.Columns ?? [];
  const existingByName = new Map(existing.map((c) => [lower(c.Name), c]));
  const wantedNames = new Set(wanted.map((c) => lower(c.Name)));
  const removed = existing.filter((c) => !wantedNames.has(lower(c.Name)));
  const added = wanted.filter((c) => !existingByName.has(lower(c.Name)));

  const renames = removed.length > 0 && added.length > 0 ? resolve({ database, table, removed, added }) : [];
  const renamedFrom = new Set<string>();
  const renamedTo = new Map<string, string>();
  for (const { from, to } of renames) {
    const valid = removed.some((c) => lower(c.Name) === from) && added.some((c) => lower(c.Name) === to);
    if (!valid || renamedFrom.has(from) || renamedTo.has(to)) {
      throw new ClicklakeError('bad_rename', `rename ${table}.${from} -> ${to} is not a removed column paired with a new one: check the --rename values`, { table, from, to });
    }
    renamedFrom.add(from);
    renamedTo.set(to, from);
  }

  const typeChanges: CatalogChange[] = [];
  for (const column of wanted) {
    const name = lower(column.Name);
    const oldName = renamedTo.get(name);
    const old = existingByName.get(oldName ?? name);
    if (oldName !== undefined) changes.push({ ...base, type: 'rename_column', from: oldName, to: name, column, breaking: true });
    if (old && normalizeGlueType(old.Type) !== normalizeGlueType(column.Type)) {
      typeChanges.push({
        ...base,
        type: 'change_column_type',
        column: name,
        from: old.Type ?? '',
        to: column.Type ?? '',
        breaking: !isWideningTypeChange(old.Type ?? '', column.Type ?? ''),
      });
    }
  }
  for (const column of removed) {
    if (!renamedFrom.has(lower(column.Name))) changes.push({ ...base, type: 'drop_column', column: lower(column.Name), breaking: true });
  }
  changes.push(...typeChanges);

  const additions = wanted
    .map((column, i) => ({ column, after: i === 0 ? null : lower(wanted[i - 1]!.Name) }))
    .filter(({ column }) => added.includes(column) && !renamedTo.has(lower(column.Name)));
  if (additions.length > 0) changes.push({ ...base, type: 'add_columns', columns: additions, breaking: false, versionId: live.versionId });

  const properties = diffProperties(desired, live.input, existingByName, renamedTo);
  if (properties.length > 0) changes.push({ ...base, type: 'update_table_properties', properties, breaking: false, versionId: live.versionId });
  return changes;
}

function diffProperties(desired: TableInput, live: TableInput, liveColumns: Map<string, Column>, renamedTo: Map<string, string>): PropertyChange[] {
  const out: PropertyChange[] = [];
  const scalar = (field: PropertyChange['field'], want: string | undefined, have: string | undefined): void => {
    if (want !== undefined && want !== have) out.push({ field, from: have ?? null, to: want });
  };
  const dsd = desired.StorageDescriptor ?? {};
  const lsd = live.StorageDescriptor ?? {};
  scalar('Description', desired.Description, live.Description);
  scalar('TableType', desired.TableType, live.TableType);
  scalar('Location', dsd.Location, lsd.Location);
  scalar('InputFormat', dsd.InputFormat, lsd.InputFormat);
  scalar('OutputFormat', dsd.OutputFormat, lsd.OutputFormat);
  scalar('SerializationLibrary', dsd.SerdeInfo?.SerializationLibrary, lsd.SerdeInfo?.SerializationLibrary);

  const mapDiff = (field: 'Parameters' | 'SerdeParameters', want: Record<string, string>, have: Record<string, string>, owned: (key: string) => boolean): void => {
    for (const key of [...new Set([...Object.keys(want), ...Object.keys(have)])].sort()) {
      const to = want[key] ?? null;
      const from = have[key] ?? null;
      if (to === from) continue;
      if (to === null && !owned(key)) continue;
      out.push({ field, key, from, to });
    }
  };
  mapDiff('Parameters', desired.Parameters ?? {}, live.Parameters ?? {}, isManagedParameter);
  // The SerDe's parameters are all clicklake's (JSON key mappings): stale ones are removed.
  mapDiff('SerdeParameters', dsd.SerdeInfo?.Parameters ?? {}, lsd.SerdeInfo?.Parameters ?? {}, () => true);

  for (const column of dsd.Columns ?? []) {
    const name = lower(column.Name);
    const old = liveColumns.get(renamedTo.get(name) ?? name);
    if (!old || renamedTo.has(name)) continue; // new and renamed columns carry their comment already
    if ((column.Comment ?? null) !== (old.Comment ?? null)) out.push({ field: 'ColumnComment', key: name, from: old.Comment ?? null, to: column.Comment ?? null });
  }
  return out;
}

/**
 * The saved-plan form: the changes plus the live definitions they update (apply renders each
 * UpdateTable from them). Pure: the time comes from `now`.
 */
export function buildPlan(desired: DesiredCatalog, live: LiveCatalog, options: PlanOptions & { now: Date }): CatalogPlan {
  const changes = planCatalog(desired, live, options);
  const baselines: Record<string, TableBaseline> = {};
  for (const change of changes) {
    if (change.type === 'create_database' || change.type === 'create_table') continue;
    baselines[change.table] = live.tables[change.table]!;
  }
  return { format: PLAN_FORMAT, version: 1, database: lower(desired.database.Name), createdAt: options.now.toISOString(), changes, baselines };
}

/** Settings that shape the desired catalog. */
export interface DesiredCatalogOptions {
  database: string;
  target: CatalogTarget;
  /** Athena partition projection on the tables (default true). Off: register partitions with `clicklake partitions sync`. */
  projection?: boolean;
}

/**
 * The desired catalog of a set of schemas: the database and, per schema, its raw and curated table.
 *
 * @example
 * const desired = desiredCatalog(await loadSchemas(), { database: 'clicklake', target: { bucket: 'my-lake' } });
 */
export function desiredCatalog(specs: TableSpec[], options: DesiredCatalogOptions): DesiredCatalog {
  const tables = specs.flatMap((spec) => tableInputs(spec, options.target));
  if (options.projection === false) {
    for (const table of tables) {
      table.Parameters = Object.fromEntries(Object.entries(table.Parameters ?? {}).filter(([key]) => !isManagedParameter(key)));
    }
  }
  return {
    database: { Name: options.database.toLowerCase(), Description: 'Clickstream lake tables, managed by clicklake (catalog plan / apply).' },
    tables,
  };
}

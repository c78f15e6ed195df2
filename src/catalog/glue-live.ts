/**
 * Reads the live Glue catalog for planning: the database (GetDatabase) and the desired tables
 * among all of its tables (paginated GetTables), each reduced to the TableInput form UpdateTable
 * takes plus its VersionId.
 */
import {
  EntityNotFoundException,
  GetDatabaseCommand,
  GetTableCommand,
  GetTablesCommand,
  type GlueClient,
  type Table,
  type TableInput,
} from '@aws-sdk/client-glue';
import { awsSetupHint } from '../aws/setup-hint.js';
import { ClicklakeError } from '../errors.js';
import type { TableBaseline } from './changes.js';
import type { LiveCatalog } from './plan.js';

/** The only Glue client surface the catalog code uses. */
export type GlueSender = Pick<GlueClient, 'send'>;

/**
 * The fields of a Glue `Table` that belong in a TableInput (what UpdateTable replaces the table
 * with). Timestamps, owner-side metadata and Glue's bookkeeping (VersionId, CatalogId,
 * CreatedBy, ...) are dropped; `Retention` is kept only when set (0 is Glue's default).
 */
export function tableInputOf(table: Table): TableInput {
  const input: TableInput = { Name: table.Name };
  if (table.Description !== undefined) input.Description = table.Description;
  if (table.Owner !== undefined) input.Owner = table.Owner;
  if (table.Retention) input.Retention = table.Retention;
  if (table.TableType !== undefined) input.TableType = table.TableType;
  if (table.Parameters !== undefined) input.Parameters = table.Parameters;
  if (table.PartitionKeys !== undefined) input.PartitionKeys = table.PartitionKeys;
  if (table.StorageDescriptor !== undefined) input.StorageDescriptor = table.StorageDescriptor;
  if (table.ViewOriginalText !== undefined) input.ViewOriginalText = table.ViewOriginalText;
  if (table.ViewExpandedText !== undefined) input.ViewExpandedText = table.ViewExpandedText;
  if (table.TargetTable !== undefined) input.TargetTable = table.TargetTable;
  return input;
}

/** A live table as a plan baseline. */
export function baselineOf(table: Table): TableBaseline {
  if (table.VersionId === undefined) {
    throw new ClicklakeError('glue_unexpected_response', `Glue returned table ${table.Name} without a VersionId: cannot plan safely against it`, { table: table.Name });
  }
  return { versionId: table.VersionId, input: tableInputOf(table) };
}

/** Wraps an unexpected SDK error in a ClicklakeError naming the operation and Glue's own message. */
export function glueError(operation: string, err: unknown, meta: Record<string, unknown> = {}): ClicklakeError {
  if (err instanceof ClicklakeError) return err;
  const name = (err as { name?: string })?.name ?? 'Error';
  const message = (err as Error)?.message ?? String(err);
  return new ClicklakeError(
    'glue_call_failed',
    `Glue ${operation} failed: ${name}: ${message} (${awsSetupHint(err) ?? 'check the AWS region, credentials and IAM permissions'})`,
    { operation, awsError: name, ...meta },
    { cause: err },
  );
}

/**
 * Reads the database and those of `tableNames` that exist.
 *
 * @example
 * const live = await readLiveCatalog(new GlueClient({}), 'clicklake', ['click_events_raw', 'click_events']);
 */
export async function readLiveCatalog(glue: GlueSender, database: string, tableNames: string[]): Promise<LiveCatalog> {
  const db = database.toLowerCase();
  try {
    await glue.send(new GetDatabaseCommand({ Name: db }));
  } catch (err) {
    if (err instanceof EntityNotFoundException) return { database: db, exists: false, tables: {} };
    throw glueError('GetDatabase', err, { database: db });
  }
  const wanted = new Set(tableNames.map((n) => n.toLowerCase()));
  const tables: Record<string, TableBaseline> = {};
  try {
    let token: string | undefined;
    do {
      const page = await glue.send(new GetTablesCommand({ DatabaseName: db, NextToken: token }));
      for (const table of page.TableList ?? []) {
        const name = (table.Name ?? '').toLowerCase();
        if (wanted.has(name)) tables[name] = baselineOf(table);
      }
      token = page.NextToken;
    } while (token);
  } catch (err) {
    // A database deleted between the two calls reads as missing.
    if (err instanceof EntityNotFoundException) return { database: db, exists: false, tables: {} };
    throw glueError('GetTables', err, { database: db });
  }
  return { database: db, exists: true, tables };
}

/** One table, or undefined when Glue says it does not exist. */
export async function readLiveTable(glue: GlueSender, database: string, table: string): Promise<TableBaseline | undefined> {
  try {
    const { Table: found } = await glue.send(new GetTableCommand({ DatabaseName: database, Name: table }));
    return found ? baselineOf(found) : undefined;
  } catch (err) {
    if (err instanceof EntityNotFoundException) return undefined;
    throw glueError('GetTable', err, { database, table });
  }
}

/** Whether the database exists. */
export async function databaseExists(glue: GlueSender, database: string): Promise<boolean> {
  try {
    await glue.send(new GetDatabaseCommand({ Name: database }));
    return true;
  } catch (err) {
    if (err instanceof EntityNotFoundException) return false;
    throw glueError('GetDatabase', err, { database });
  }
}

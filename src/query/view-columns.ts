/**
 * The output columns of the curated views, as the local engine types them: the views run over
 * empty tables of the schemas' shape, then DESCRIBE. For what must know a view's columns before
 * any data exists (the QuickSight datasets of the deploy app).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { quotedIdentifier } from '../base/sql.js';
import type { TableSpec } from '../schema/types.js';
import { applyViewsLocally, localTablesOf, openLocalEngine } from './local-engine.js';
import type { ViewDefinition } from './views.js';

export interface ViewColumn {
  name: string;
  /** DuckDB's type name, e.g. VARCHAR, BIGINT, DOUBLE, TIMESTAMP, DATE. */
  duckdbType: string;
}

export async function viewColumns(specs: TableSpec[], views: ViewDefinition[]): Promise<Map<string, ViewColumn[]>> {
  const emptyLake = await mkdtemp(join(tmpdir(), 'clicklake-view-columns-'));
  try {
    const engine = await openLocalEngine({ lakeDir: emptyLake, tables: localTablesOf(specs), threads: 1 });
    try {
      await applyViewsLocally(engine, views);
      const columns = new Map<string, ViewColumn[]>();
      for (const view of views) {
        const described = await engine.query(`DESCRIBE SELECT * FROM ${quotedIdentifier(view.name)}`);
        const name = described.columns.findIndex((c) => c.name === 'column_name');
        const type = described.columns.findIndex((c) => c.name === 'column_type');
        columns.set(view.name, described.rows.map((r) => ({ name: String(r[name]), duckdbType: String(r[type]) })));
      }
      return columns;
    } finally {
      await engine.close();
    }
  } finally {
    await rm(emptyLake, { recursive: true, force: true });
  }
}

import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ClicklakeError } from '../errors.js';
import { toTableSpec } from './column-model.js';
import { lintSchema, type LintIssue } from './lint.js';
import type { TableSpec } from './types.js';

/** `schemas/` of the installed package: the schemas clicklake ships with. */
export const DEFAULT_SCHEMA_DIR = fileURLToPath(new URL('../../schemas/', import.meta.url));

export function formatLintIssues(source: string, issues: LintIssue[]): string {
  return issues.map((i) => `${source}: ${i.pointer}: ${i.message}`).join('\n');
}

/**
 * Lints a parsed schema document and maps it to its column model.
 * @throws ClicklakeError `schema_invalid` listing every lint issue with its JSON pointer.
 */
export function buildTableSpec(doc: unknown, source = '<inline>'): TableSpec {
  const issues = lintSchema(doc);
  if (issues.length > 0) {
    throw new ClicklakeError('schema_invalid', `${source} is not a usable lake schema:\n${formatLintIssues(source, issues)}`, { source, issues });
  }
  return toTableSpec(doc as Record<string, unknown>, source);
}

/** Reads and parses one schema file (no lint). */
export async function readSchemaFile(file: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new ClicklakeError('schema_not_found', `cannot read schema ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { file });
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new ClicklakeError('schema_not_json', `${file} is not valid JSON: ${(err as Error).message}`, { file });
  }
}

export async function loadSchemaFile(file: string): Promise<TableSpec> {
  return buildTableSpec(await readSchemaFile(file), file);
}

/** The `*.schema.json` files of a directory, sorted by name. */
export async function listSchemaFiles(dir: string = DEFAULT_SCHEMA_DIR): Promise<string[]> {
  let entries: string[];
  try {
    entries = await readdir(dir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'does not exist' : code === 'ENOTDIR' ? 'is not a directory' : `cannot be read (${code ?? (err as Error).message})`;
    throw new ClicklakeError('schemas_dir_unreadable', `the schemas directory ${dir} ${why}: pass --schemas with the directory of your *.schema.json files, or leave it out for the schemas clicklake ships`, { dir }, { cause: err });
  }
  const names = entries.filter((n) => n.endsWith('.schema.json')).sort();
  return names.map((n) => path.join(dir, n));
}

/** Loads every schema of a directory; table names must be unique. */
export async function loadSchemas(dir: string = DEFAULT_SCHEMA_DIR): Promise<TableSpec[]> {
  const specs = await Promise.all((await listSchemaFiles(dir)).map(loadSchemaFile));
  const seen = new Map<string, string>();
  for (const spec of specs) {
    const other = seen.get(spec.name);
    if (other) throw new ClicklakeError('duplicate_table', `${other} and ${spec.source} both declare table "${spec.name}"`, { table: spec.name });
    seen.set(spec.name, spec.source);
  }
  return specs;
}

/** The spec of one table by name; a clear error lists the tables that exist. */
export async function loadTable(name: string, dir: string = DEFAULT_SCHEMA_DIR): Promise<TableSpec> {
  const specs = await loadSchemas(dir);
  const spec = specs.find((s) => s.name === name);
  if (!spec) {
    throw new ClicklakeError('unknown_table', `no schema declares table "${name}"; known tables: ${specs.map((s) => s.name).join(', ') || '(none)'}`, { table: name });
  }
  return spec;
}

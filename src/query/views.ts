/**
 * Loads the curated views (`sql/views/*.sql`, one `CREATE OR REPLACE VIEW` per file) and orders
 * them so that every view comes after the views it reads.
 */
import { readdir, readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ClicklakeError } from '../errors.js';

/** One curated view, read from its file. */
export interface ViewDefinition {
  /** View name; equals the file name without `.sql`. */
  name: string;
  /** Absolute path of the file. */
  file: string;
  /**
   * The statement, from `CREATE` to the end, without the header comment and the trailing `;`
   * (Athena's StartQueryExecution takes one statement; leading comments are kept out of it).
   */
  sql: string;
  /** Names of the other views this view reads, sorted. */
  dependsOn: string[];
}

/** `sql/views` of the installed package (the same from `src/query` and from the built `dist/query`). */
export const DEFAULT_VIEWS_DIR = fileURLToPath(new URL('../../sql/views', import.meta.url));

/** A token of Trino SQL that matters here: identifiers (bare or double-quoted) and everything else. */
interface Token {
  kind: 'identifier' | 'quoted_identifier' | 'other';
  text: string;
  /** Offset of the token in the SQL text. */
  start: number;
}

/**
 * Splits SQL into tokens, skipping `--` and `/* *\/` comments and string literals, so that a view
 * name mentioned in a comment or a string is not taken for a reference.
 */
function tokenize(sql: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < sql.length) {
    const ch = sql[i]!;
    if (ch === '-' && sql[i + 1] === '-') {
      const end = sql.indexOf('\n', i);
      i = end === -1 ? sql.length : end + 1;
    } else if (ch === '/' && sql[i + 1] === '*') {
      const end = sql.indexOf('*/', i + 2);
      i = end === -1 ? sql.length : end + 2;
    } else if (ch === "'") {
      // '' inside a literal is an escaped quote: keep going until a lone quote.
      let j = i + 1;
      while (j < sql.length) {
        if (sql[j] === "'" && sql[j + 1] === "'") j += 2;
        else if (sql[j] === "'") break;
        else j += 1;
      }
      tokens.push({ kind: 'other', text: sql.slice(i, j + 1), start: i });
      i = j + 1;
    } else if (ch === '"') {
      let j = i + 1;
      let text = '';
      while (j < sql.length) {
        if (sql[j] === '"' && sql[j + 1] === '"') {
          text += '"';
          j += 2;
        } else if (sql[j] === '"') break;
        else text += sql[j++];
      }
      tokens.push({ kind: 'quoted_identifier', text, start: i });
      i = j + 1;
    } else if (/[A-Za-z_]/.test(ch)) {
      let j = i + 1;
      while (j < sql.length && /[A-Za-z0-9_]/.test(sql[j]!)) j += 1;
      tokens.push({ kind: 'identifier', text: sql.slice(i, j), start: i });
      i = j;
    } else if (/\s/.test(ch)) {
      i += 1;
    } else {
      tokens.push({ kind: 'other', text: ch, start: i });
      i += 1;
    }
  }
  return tokens;
}

/** Trino (and Glue) treat names case-insensitively, quoted or not. */
function identifierName(token: Token): string {
  return token.text.toLowerCase();
}

function isKeyword(token: Token | undefined, keyword: string): boolean {
  return token !== undefined && token.kind === 'identifier' && token.text.toUpperCase() === keyword;
}

/** Reads `CREATE OR REPLACE VIEW <name> AS` at the start of the statement. */
function parseViewFile(file: string, text: string): { name: string; sql: string; tokens: Token[] } {
  const tokens = tokenize(text);
  const [t0, t1, t2, t3, nameToken, asToken] = tokens;
  const header = isKeyword(t0, 'CREATE') && isKeyword(t1, 'OR') && isKeyword(t2, 'REPLACE') && isKeyword(t3, 'VIEW');
  const named = nameToken !== undefined && nameToken.kind !== 'other' && isKeyword(asToken, 'AS');
  if (!header || !named) {
    throw new ClicklakeError(
      'view_file_invalid',
      `${file} must hold one statement starting with CREATE OR REPLACE VIEW <name> AS, the name unqualified (after its header comment)`,
      { file },
    );
  }
  const last = tokens[tokens.length - 1]!;
  const endsWithSemicolon = last.kind === 'other' && last.text === ';';
  // Up to the closing `;` (a comment after it is dropped with it).
  const sql = text.slice(t0!.start, endsWithSemicolon ? last.start : undefined).trimEnd();
  if (tokens.some((t) => t.kind === 'other' && t.text === ';' && t !== last)) {
    throw new ClicklakeError('view_file_invalid', `${file} holds more than one statement: keep one CREATE OR REPLACE VIEW per file`, { file });
  }
  return { name: identifierName(nameToken!), sql, tokens: tokens.slice(6) };
}

/**
 * Orders views so that each comes after the views it depends on (Kahn's algorithm, ties broken
 * by name so the order is stable).
 */
function topologicalOrder(views: ViewDefinition[]): ViewDefinition[] {
  const byName = new Map(views.map((v) => [v.name, v]));
  const remaining = new Map(views.map((v) => [v.name, new Set(v.dependsOn)]));
  const ordered: ViewDefinition[] = [];
  while (remaining.size > 0) {
    const ready = [...remaining].filter(([, deps]) => deps.size === 0).map(([name]) => name).sort();
    if (ready.length === 0) {
      const cycle = [...remaining.keys()].sort();
      const files = cycle.map((name) => byName.get(name)!.file);
      throw new ClicklakeError(
        'view_dependency_cycle',
        `views ${cycle.join(', ')} depend on each other in a cycle: break it in ${files.join(', ')}`,
        { views: cycle, files },
      );
    }
    for (const name of ready) {
      ordered.push(byName.get(name)!);
      remaining.delete(name);
      for (const deps of remaining.values()) deps.delete(name);
    }
  }
  return ordered;
}

/**
 * Reads every `*.sql` file of `dir` and returns the views in dependency order (a view after the
 * views it reads). A view depends on another when its statement mentions the other's name as an
 * identifier (bare or double-quoted, outside comments and string literals).
 *
 * @throws ClicklakeError `view_file_invalid` (not one CREATE OR REPLACE VIEW), `view_name_mismatch`
 *   (the view's name differs from the file name), `view_dependency_cycle`, `views_dir_unreadable`.
 *
 * @example
 * const views = await loadViews();
 * for (const view of views) await athena.run(view.sql); // dependencies first
 */
export async function loadViews(dir: string = DEFAULT_VIEWS_DIR): Promise<ViewDefinition[]> {
  let entries: string[];
  try {
    entries = await readdir(dir);
  } catch (err) {
    throw new ClicklakeError('views_dir_unreadable', `cannot read the views directory ${dir}: check the path`, { dir }, { cause: err });
  }
  const files = entries.filter((f) => f.endsWith('.sql')).sort().map((f) => join(dir, f));
  const parsed = await Promise.all(
    files.map(async (file) => {
      const { name, sql, tokens } = parseViewFile(file, await readFile(file, 'utf8'));
      const expected = basename(file, '.sql').toLowerCase();
      if (name !== expected) {
        throw new ClicklakeError(
          'view_name_mismatch',
          `${file} creates view ${name}: rename the file to ${name}.sql or the view to ${expected}`,
          { file, view: name, expected },
        );
      }
      return { name, file, sql, tokens };
    }),
  );
  const names = new Set(parsed.map((p) => p.name));
  const views = parsed.map(({ name, file, sql, tokens }): ViewDefinition => {
    const referenced = new Set(
      tokens.filter((t) => t.kind !== 'other').map(identifierName).filter((id) => id !== name && names.has(id)),
    );
    return { name, file, sql, dependsOn: [...referenced].sort() };
  });
  return topologicalOrder(views);
}

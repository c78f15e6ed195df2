/**
 * Finds, reads and validates `clicklake.config.json`, then lays the `CLICKLAKE_*` environment
 * variables (the ones the compaction Lambda is configured with) over it.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import AjvModule from 'ajv';
import type { ErrorObject } from 'ajv';
import { ClicklakeError } from '../errors.js';
import { hasUriScheme } from '../storage/uri.js';
import { CONFIG_JSON_SCHEMA, PATTERN_HINTS, type ClicklakeConfig } from './schema.js';

// ajv is CommonJS; under NodeNext its default export sits on `.default`.
const Ajv = AjvModule.default;

/** The file looked up in the working directory when no `--config` is given. */
export const CONFIG_FILE_NAME = 'clicklake.config.json';

/** Environment variables that override config fields, and where each lands. */
export const CONFIG_ENV_VARS: ReadonlyArray<{ name: string; pointer: string; kind: 'string' | 'integer' }> = [
  { name: 'CLICKLAKE_LAKE', pointer: '/lake', kind: 'string' },
  { name: 'CLICKLAKE_DATABASE', pointer: '/database', kind: 'string' },
  { name: 'CLICKLAKE_GRACE_MINUTES', pointer: '/compaction/graceMinutes', kind: 'integer' },
  { name: 'CLICKLAKE_LOOKBACK_HOURS', pointer: '/compaction/lookbackHours', kind: 'integer' },
  { name: 'CLICKLAKE_MAX_SKEW_HOURS', pointer: '/compaction/maxSkewHours', kind: 'integer' },
  { name: 'CLICKLAKE_LEASE_SECONDS', pointer: '/compaction/leaseSeconds', kind: 'integer' },
  { name: 'CLICKLAKE_COMPRESSION', pointer: '/compaction/compression', kind: 'string' },
  { name: 'CLICKLAKE_SSE', pointer: '/sse/mode', kind: 'string' },
  { name: 'CLICKLAKE_KMS_KEY_ID', pointer: '/sse/kmsKeyId', kind: 'string' },
];

/** A loaded, validated config and where it came from. */
export interface LoadedConfig {
  config: ClicklakeConfig;
  /** Absolute path of the file read, or undefined when none was found (defaults only). */
  file?: string;
  /** Environment variables that overrode a field. */
  envOverrides: string[];
}

export interface LoadConfigOptions {
  /** Where `clicklake.config.json` is looked up and relative `file` is resolved. */
  cwd: string;
  /** `--config <file>`: must exist. */
  file?: string;
  /** `CLICKLAKE_CONFIG` names a file like `--config`; `CLICKLAKE_*` variables override fields. */
  env?: NodeJS.ProcessEnv;
}

let validator: ReturnType<InstanceType<typeof Ajv>['compile']> | undefined;

function validate(value: unknown): ErrorObject[] {
  validator ??= new Ajv({ strict: true, allErrors: true, verbose: true }).compile(CONFIG_JSON_SCHEMA);
  return validator(value) ? [] : [...(validator.errors ?? [])];
}

/** One error as `pointer: problem (fix)`, naming the environment variable when it set the value. */
function describeError(error: ErrorObject, envPointers: Map<string, string>): { pointer: string; message: string } | undefined {
  const at = error.instancePath;
  switch (error.keyword) {
    case 'additionalProperties': {
      const pointer = `${at}/${String(error.params['additionalProperty'])}`;
      const schema = error.parentSchema as { properties?: Record<string, unknown> } | undefined;
      const known = Object.keys(schema?.properties ?? {}).filter((k) => k !== '$schema');
      return { pointer, message: `unknown field: remove it or fix its spelling (known fields here: ${known.join(', ')})` };
    }
    case 'required': {
      const missing = String(error.params['missingProperty']);
      const hint = missing === 'kmsKeyId' ? 'add "kmsKeyId": the KMS key ARN or id used with "mode": "aws:kms"' : `add "${missing}"`;
      return { pointer: `${at}/${missing}`, message: `is required: ${hint}` };
    }
    case 'not':
      if (at === '/sse') return { pointer: '/sse/kmsKeyId', message: 'is only used with "mode": "aws:kms": remove it or set the mode to aws:kms' };
      return { pointer: at, message: error.message ?? 'is not allowed' };
    case 'if':
      return undefined; // reported by the failing then/else branch
    case 'enum':
      return { pointer: at, message: `must be one of ${(error.params['allowedValues'] as unknown[]).map((v) => JSON.stringify(v)).join(', ')}` };
    case 'pattern':
      return { pointer: at, message: `is not valid: ${PATTERN_HINTS[at] ?? `must match ${String(error.params['pattern'])}`}` };
    case 'type':
      return { pointer: at, message: `must be ${String(error.params['type'])}${envPointers.has(at) ? ' (write the variable as a plain number)' : ''}` };
    default:
      return { pointer: at, message: error.message ?? error.keyword };
  }
}

/**
 * Validates a parsed config object.
 *
 * @throws ClicklakeError `config_invalid` listing every problem as `<JSON pointer>: <problem and fix>`.
 * @example
 * validateConfig(JSON.parse(text), 'clicklake.config.json');
 */
export function validateConfig(value: unknown, source: string, envPointers: Map<string, string> = new Map()): ClicklakeConfig {
  const problems = validate(value)
    .map((e) => describeError(e, envPointers))
    .filter((p): p is { pointer: string; message: string } => p !== undefined);
  if (problems.length === 0) return value as ClicklakeConfig;
  const unique = [...new Map(problems.map((p) => [`${p.pointer} ${p.message}`, p])).values()];
  const lines = unique.map((p) => {
    const env = envPointers.get(p.pointer);
    return `${p.pointer || '(root)'}${env ? ` (from ${env})` : ''}: ${p.message}`;
  });
  throw new ClicklakeError('config_invalid', `${source}: ${lines.join('; ')}`, { source, problems: unique });
}

function setAt(target: Record<string, unknown>, pointer: string, value: unknown): void {
  const parts = pointer.split('/').slice(1);
  let node = target;
  for (const part of parts.slice(0, -1)) {
    const next = node[part];
    node[part] = next !== null && typeof next === 'object' && !Array.isArray(next) ? { ...(next as Record<string, unknown>) } : {};
    node = node[part] as Record<string, unknown>;
  }
  node[parts[parts.length - 1]!] = value;
}

/**
 * The config with `CLICKLAKE_*` environment variables applied (not validated). Integers that do
 * not parse stay strings so validation names the variable.
 */
export function applyEnvOverrides(config: ClicklakeConfig, env: NodeJS.ProcessEnv): { config: ClicklakeConfig; pointers: Map<string, string> } {
  const next = structuredClone(config) as Record<string, unknown>;
  const pointers = new Map<string, string>();
  for (const variable of CONFIG_ENV_VARS) {
    const raw = env[variable.name];
    if (raw === undefined || raw === '') continue;
    const value = variable.kind === 'integer' && /^-?\d+$/.test(raw.trim()) ? Number(raw.trim()) : raw;
    setAt(next, variable.pointer, value);
    pointers.set(variable.pointer, variable.name);
  }
  // AES256 takes no key: a KMS key id left in the environment from another setup would be refused.
  if (pointers.has('/sse/mode') && (next.sse as { mode?: string }).mode === 'AES256' && !pointers.has('/sse/kmsKeyId')) {
    delete (next.sse as { kmsKeyId?: string }).kmsKeyId;
  }
  return { config: next as ClicklakeConfig, pointers };
}

/**
 * `file://./lake` or a plain path (`./lake`, `/data/lake`) relative to `baseDir` -> absolute
 * `file:///...`; URIs with another scheme unchanged.
 */
export function absoluteLakeUri(uri: string, baseDir: string): string {
  if (uri.trim() !== '' && !hasUriScheme(uri)) return pathToFileURL(path.resolve(baseDir, uri)).href;
  if (!uri.startsWith('file://')) return uri;
  const rest = uri.slice('file://'.length);
  if (rest.startsWith('/')) return uri;
  return pathToFileURL(path.resolve(baseDir, decodeURIComponent(rest))).href;
}

/**
 * Loads the config: `file` (or `CLICKLAKE_CONFIG`) when given, else `clicklake.config.json` in
 * `cwd` when present, else an empty config (all defaults); then environment overrides; then
 * validation. Relative `schemasDir`, `viewsDir` and `file://` lakes are made absolute against
 * the config file's directory.
 *
 * @throws ClicklakeError `config_not_found`, `config_not_json`, `config_invalid`.
 * @example
 * const { config } = await loadConfig({ cwd: process.cwd(), env: process.env });
 */
export async function loadConfig(options: LoadConfigOptions): Promise<LoadedConfig> {
  const env = options.env ?? {};
  const named = options.file ?? (env['CLICKLAKE_CONFIG'] || undefined);
  const file = path.resolve(options.cwd, named ?? CONFIG_FILE_NAME);
  let text: string | undefined;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (named !== undefined || code !== 'ENOENT') {
      throw new ClicklakeError('config_not_found', `cannot read config file ${file} (${code ?? (err as Error).message}): check the --config path`, { file });
    }
  }
  let parsed: unknown = {};
  if (text !== undefined) {
    try {
      parsed = JSON.parse(text);
    } catch (err) {
      throw new ClicklakeError('config_not_json', `${file} is not valid JSON: ${(err as Error).message}`, { file });
    }
    validateConfig(parsed, file);
  }
  const { config, pointers } = applyEnvOverrides(parsed as ClicklakeConfig, env);
  validateConfig(config, text === undefined ? 'environment' : `${file} with environment overrides`, pointers);
  const baseDir = text === undefined ? options.cwd : path.dirname(file);
  if (config.schemasDir) config.schemasDir = path.resolve(baseDir, config.schemasDir);
  if (config.viewsDir) config.viewsDir = path.resolve(baseDir, config.viewsDir);
  // A lake set from the environment is relative to the working directory, one from the file to the file.
  if (config.lake) config.lake = absoluteLakeUri(config.lake, pointers.has('/lake') ? options.cwd : baseDir);
  return { config, file: text === undefined ? undefined : file, envOverrides: [...pointers.values()] };
}

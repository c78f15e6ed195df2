/**
 * The flags every AWS-facing command shares (`--config` and the settings it can override), and
 * how they become Settings: flags over the config file over defaults.
 */
import path from 'node:path';
import type { Command } from 'commander';
import { absoluteLakeUri, loadConfig } from '../config/load.js';
import { resolveSettings, type Settings, type SettingsFlags } from '../config/settings.js';
import type { CliIO } from './io.js';

/** The lake of the commands that work on one (compact, demo, the local engine) when neither a flag nor the config names it. */
export const DEFAULT_LAKE = 'file://./lake';

/** The lake the flags or config name, else DEFAULT_LAKE in the working directory. */
export function lakeOrDefault(settings: Settings, cwd: string): string {
  return settings.lake ?? absoluteLakeUri(DEFAULT_LAKE, cwd);
}

/** Raw option values commander hands to an action. */
export interface ConfigFlags {
  config?: string;
  lake?: string;
  bucket?: string;
  prefix?: string;
  database?: string;
  schemas?: string;
  views?: string;
  workgroup?: string;
  outputLocation?: string;
  compression?: string;
}

/** `--config <file>`. */
export function addConfigOption(cmd: Command): Command {
  return cmd.option('--config <file>', 'config file (default: ./clicklake.config.json when present, or $CLICKLAKE_CONFIG)');
}

/** `--bucket`, `--prefix`, `--database`, `--schemas`, `--compression`: where and how the Glue tables point. */
export function addCatalogOptions(cmd: Command): Command {
  return addConfigOption(cmd)
    .option('--bucket <name>', 'S3 bucket of the lake (default: from "lake" in the config)')
    .option('--prefix <prefix>', 'key prefix of the lake inside the bucket')
    .option('--database <db>', 'Glue database (default: clicklake)')
    .option('--schemas <dir>', 'directory of *.schema.json files')
    .option('--compression <codec>', 'Parquet codec of curated files: ZSTD or SNAPPY (default: ZSTD)');
}

/** `--database`, `--workgroup`, `--output-location`: where Athena runs. */
export function addAthenaOptions(cmd: Command): Command {
  return cmd
    .option('--database <db>', 'Glue database the statements run in (default: clicklake)')
    .option('--workgroup <name>', 'Athena workgroup (default: primary)')
    .option('--output-location <s3uri>', "Athena query result location (default: the workgroup's)");
}

/** Settings for a command: the config file (with env overrides) under the command's flags. */
export async function settingsFor(io: CliIO, flags: ConfigFlags): Promise<Settings> {
  const loaded = await loadConfig({ cwd: io.cwd, file: flags.config, env: io.env });
  const resolved: SettingsFlags = {};
  if (flags.lake !== undefined) resolved.lake = absoluteLakeUri(flags.lake, io.cwd);
  if (flags.bucket !== undefined) resolved.bucket = flags.bucket;
  if (flags.prefix !== undefined) resolved.prefix = flags.prefix;
  if (flags.database !== undefined) resolved.database = flags.database;
  if (flags.schemas !== undefined) resolved.schemas = path.resolve(io.cwd, flags.schemas);
  if (flags.views !== undefined) resolved.views = path.resolve(io.cwd, flags.views);
  if (flags.workgroup !== undefined) resolved.workgroup = flags.workgroup;
  if (flags.outputLocation !== undefined) resolved.outputLocation = flags.outputLocation;
  if (flags.compression !== undefined) resolved.compression = flags.compression;
  return resolveSettings(loaded.config, resolved);
}

import { existsSync, statSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import { ClicklakeError } from '../errors.js';
import { addConfigOption, type ConfigFlags } from './config-flags.js';
import type { CliIO } from './io.js';
import { loadConfig } from '../config/load.js';
import { resolveSettings } from '../config/settings.js';

interface SynthFlags extends ConfigFlags {
  out: string;
  lambdaDir?: string;
}

export function registerDeployCommands(program: Command, io: CliIO): Command {
  const deploy = program.command('deploy').description('the whole system on AWS as code (AWS CDK): collection endpoint, Firehose, the encrypted replicated lake, compaction, catalog, monitoring');
  addConfigOption(deploy.command('synth'))
    .description('write the CloudFormation templates (CDK cloud assembly) from clicklake.config.json, with no AWS account and no network')
    .option('--out <dir>', 'cloud assembly directory', 'cdk.out')
    .option('--lambda-dir <dir>', 'the compaction bundle (default: dist-lambda/arm64 from `npm run build:lambda -- --arch arm64`)')
    .addHelpText('after', `
Writes <out>/ClicklakeBackup.template.json (deploy.backupRegion), <out>/ClicklakeLake.template.json
(deploy.region) and <out>/manifest.json. Deploy them with: npx cdk deploy --all (cdk.json runs the same app).
The "deploy" section of the config sets region, backupRegion, allowedOrigins, alarmEmail, throttle,
firehose buffering, retention days, lambda memory/storage/schedule, athenaScanCutoffBytes and domain.

Examples:
  clicklake deploy synth
  clicklake deploy synth --config prod.config.json --out build/cdk
`)
    .action(async (flags: SynthFlags) => {
      const { config } = await loadConfig({ cwd: io.cwd, env: io.env, ...(flags.config ? { file: flags.config } : {}) });
      const settings = resolveSettings(config);
      const out = path.resolve(io.cwd, flags.out);
      if (existsSync(out) && !statSync(out).isDirectory()) throw new ClicklakeError('bad_flag', `--out ${flags.out} is a file: give a directory for the templates (default cdk.out)`, { out });
      const lambdaDir = flags.lambdaDir === undefined ? undefined : path.resolve(io.cwd, flags.lambdaDir);
      if (lambdaDir !== undefined && !existsSync(path.join(lambdaDir, 'index.mjs'))) {
        throw new ClicklakeError('bad_flag', `--lambda-dir ${flags.lambdaDir} holds no index.mjs: build the bundle with npm run build:lambda -- --arch arm64 and pass its directory, or leave the flag out`, { lambdaDir });
      }
      // aws-cdk-lib is big: only this command loads it.
      const { buildDeployApp } = await import('../deploy/app.js');
      const built = await buildDeployApp({ config, settings, outdir: out, ...(lambdaDir ? { lambdaCodeDir: lambdaDir } : {}) });
      try {
        built.app.synth();
      } catch (err) {
        throw new ClicklakeError('synth_failed', `the templates could not be synthesized: ${(err as Error).message}`, {}, { cause: err });
      }
      const templates = (await readdir(out)).filter((f) => f.endsWith('.template.json')).sort();
      for (const t of templates) io.stdout.write(`wrote ${path.join(out, t)}\n`);
      io.stdout.write(`wrote ${path.join(out, 'manifest.json')}\n`);
      io.stdout.write(`Regions: lake ${built.deploy.region}, backup ${built.deploy.backupRegion}. Deploy with: npx cdk deploy --all\n`);
      if (built.placeholderLambda) io.stderr.write(`warning: no compaction bundle in dist-lambda/arm64: the templates use a placeholder that fails when invoked; run npm run build:lambda -- --arch arm64 before deploying\n`);
    });
  return deploy;
}

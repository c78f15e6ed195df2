/**
 * The CDK app: the backup stack in `deploy.backupRegion`, then the lake stack in `deploy.region`,
 * from the effective settings and the schemas. Loaded only by `clicklake deploy` and `cdk`, never
 * by the Lambda bundle or the other commands.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { App } from 'aws-cdk-lib';
import type { CloudAssembly } from 'aws-cdk-lib/cx-api';
import type { ClicklakeConfig } from '../config/schema.js';
import type { Settings } from '../config/settings.js';
import { viewColumns } from '../query/view-columns.js';
import { loadViews } from '../query/views.js';
import { loadSchemas } from '../schema/load.js';
import { BackupStack } from './backup-stack.js';
import { resolveDeploySettings, type DeploySettings } from './config.js';
import { LakeStack } from './lake-stack.js';
import { STACKS } from './names.js';
import { acknowledgeFindings, addNagChecks } from './nag.js';

/** Where `npm run build:lambda -- --arch arm64` puts the bundle. */
export const LAMBDA_BUNDLE_DIR = fileURLToPath(new URL('../../dist-lambda/arm64/', import.meta.url));

export interface DeployAppOptions {
  config: ClicklakeConfig;
  settings: Settings;
  outdir: string;
  /** The Lambda bundle; default LAMBDA_BUNDLE_DIR, or a placeholder when it was not built. */
  lambdaCodeDir?: string;
  /** Account of both stacks (default: the CDK CLI's CDK_DEFAULT_ACCOUNT, else account-agnostic). */
  account?: string;
  ingestTable?: string;
}

export interface DeployApp {
  app: App;
  backup: BackupStack;
  lake: LakeStack;
  deploy: DeploySettings;
  /** Set when the Lambda bundle was missing and a placeholder stands in. */
  placeholderLambda?: string;
}

/** A stand-in bundle so a synth without `build:lambda` still writes whole templates. */
function placeholderBundle(outdir: string): string {
  const dir = path.join(outdir, 'placeholder-lambda');
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'index.mjs'), "export const handler = async () => { throw new Error('deployed without the compaction bundle: run npm run build:lambda -- --arch arm64, then synth and deploy again'); };\n");
  return dir;
}

export async function buildDeployApp(options: DeployAppOptions): Promise<DeployApp> {
  const deploy = resolveDeploySettings(options.config.deploy);
  const specs = await loadSchemas(options.settings.schemasDir);
  mkdirSync(options.outdir, { recursive: true });
  let lambdaCodeDir = options.lambdaCodeDir;
  let placeholderLambda: string | undefined;
  if (!lambdaCodeDir) {
    if (existsSync(path.join(LAMBDA_BUNDLE_DIR, 'index.mjs'))) lambdaCodeDir = LAMBDA_BUNDLE_DIR;
    else lambdaCodeDir = placeholderLambda = placeholderBundle(options.outdir);
  }
  // DuckDB only when QuickSight needs the views' columns.
  const columns = deploy.quicksightPrincipalArn ? await viewColumns(specs, await loadViews(options.settings.viewsDir)) : undefined;
  const app = new App({ outdir: options.outdir });
  const account = options.account ?? process.env['CDK_DEFAULT_ACCOUNT'];
  const env = (region: string) => (account ? { account, region } : { region });
  addNagChecks(app);
  const backup = new BackupStack(app, STACKS.backup, deploy, { env: env(deploy.backupRegion), description: 'clicklake: the lake\'s encrypted backup in another Region' });
  const lake = new LakeStack(
    app,
    STACKS.lake,
    { settings: options.settings, deploy, specs, ingestTable: options.ingestTable ?? 'click_events', lambdaCodeDir, ...(columns ? { viewColumns: columns } : {}) },
    { env: env(deploy.region), description: 'clicklake: collection endpoint, Firehose, the lake, compaction, catalog and monitoring' },
  );
  lake.addStackDependency(backup, 'the lake replicates to the backup bucket, which must exist first');
  for (const stack of [backup, lake]) acknowledgeFindings(stack);
  return { app, backup, lake, deploy, ...(placeholderLambda ? { placeholderLambda } : {}) };
}

export function synthesize(built: DeployApp): CloudAssembly {
  return built.app.synth();
}

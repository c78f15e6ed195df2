// The CDK app entry for `npx cdk deploy --all` (cdk.json): the config of the working directory.
import { loadConfig } from '../config/load.js';
import { resolveSettings } from '../config/settings.js';
import { buildDeployApp } from './app.js';

const { config } = await loadConfig({ cwd: process.cwd(), env: process.env });
const built = await buildDeployApp({ config, settings: resolveSettings(config), outdir: process.env['CDK_OUTDIR'] ?? 'cdk.out' });
built.app.synth();

// The ceiling of `npm run bench:ingest`: the same HTTP app as `clicklake serve` (parsing, UTF-8
// and JSON checks, the draft-4 model, the answers) answering 200 without writing anything.
import { buildIngestApp } from '../dist/ingest/http-app.js';
import { requestModel } from '../dist/ingest/request-model.js';
import { compileRequestValidator } from '../dist/ingest/request-validator.js';
import { loadTable } from '../dist/schema/load.js';

const check = compileRequestValidator(requestModel(await loadTable('click_events')).model);
const app = await buildIngestApp({ check, accept: async () => undefined, allowedOrigins: [] });
const address = await app.listen({ host: '127.0.0.1', port: 0 });
process.stdout.write(`listening on ${address}\n`);
process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));

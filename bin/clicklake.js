#!/usr/bin/env node
// Runs the compiled CLI (built by `npm run build`, which `npm ci` runs through `prepare`).
// clicklake supports Node >= 20.19 and pins its AWS SDK in package-lock.json; the SDK's notice
// that its 2027 releases need Node 22 would otherwise print before every AWS command's output.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
// A reader that stops early (`clicklake query ... | head`) closes the pipe: stop quietly, as Unix tools do.
process.stdout.on('error', (err) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});
const { main } = await import('../dist/cli/main.js');

process.exitCode = await main(process.argv.slice(2));

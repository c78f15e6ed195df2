import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { isClicklakeError } from '../errors.js';
import { registerCatalogCommands } from './catalog.js';
import { registerIamCommands } from './iam.js';
import { registerPartitionsCommands } from './partitions.js';
import { registerQueryCommands } from './query.js';
import { registerViewsCommands } from './views.js';
import { ExitCode, processIO, type CliIO } from './io.js';
import { registerSchemaCommands } from './schema.js';
import { registerCompactCommand } from './compact.js';
import { registerDemoCommand } from './demo.js';
import { registerCostCommand } from './cost.js';
import { registerDashboardCommand } from './dashboard.js';
import { registerServeCommand } from './serve.js';
import { registerDeployCommands } from './deploy.js';
import { CLICKLAKE_VERSION } from '../version.js';

const ISSUES_URL = 'https://github.com/clicklake/clicklake/issues';

export function buildProgram(io: CliIO): Command {
  const program = new Command('clicklake')
    .description('Serverless clickstream lake: schemas -> Glue tables, Firehose JSON -> Parquet, curated Athena views')
    .version(CLICKLAKE_VERSION, '-V, --version', 'print the clicklake version')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) });
  registerSchemaCommands(program, io);
  registerCatalogCommands(program, io);
  registerCompactCommand(program, io);
  registerDemoCommand(program, io);
  registerViewsCommands(program, io);
  registerQueryCommands(program, io);
  registerPartitionsCommands(program, io);
  registerIamCommands(program, io);
  registerCostCommand(program, io);
  registerDashboardCommand(program, io);
  registerServeCommand(program, io);
  registerDeployCommands(program, io);
  for (const cmd of allCommands(program)) cmd.exitOverride().configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) });
  return program;
}

function allCommands(cmd: Command): Command[] {
  return cmd.commands.flatMap((c) => [c, ...allCommands(c)]);
}

/**
 * Runs one command line and returns the exit code: 0 ok, 1 user error (one line, no stack),
 * 2 `catalog plan` found changes, 70 internal error (a bug: stack and issue link).
 */
export async function main(argv: string[], io: CliIO = processIO()): Promise<number> {
  const program = buildProgram(io);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (err) {
    if (err instanceof ExitCode) return err.code;
    if (err instanceof CommanderError) {
      // Commander already printed the message (or the help / version text).
      return err.exitCode === 0 ? 0 : 1;
    }
    if (err instanceof InvalidArgumentError) {
      io.stderr.write(`error: ${err.message}\n`);
      return 1;
    }
    if (isClicklakeError(err)) {
      io.stderr.write(`error: ${err.message}\n`);
      return err.exitCode;
    }
    io.stderr.write(`internal error (a bug in clicklake, please report it at ${ISSUES_URL}):\n${(err as Error)?.stack ?? String(err)}\n`);
    return 70;
  }
}

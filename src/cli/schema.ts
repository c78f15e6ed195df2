import type { Command } from 'commander';
import path from 'node:path';
import { formatLintIssues, listSchemaFiles, readSchemaFile } from '../schema/load.js';
import { lintSchema } from '../schema/lint.js';
import { ExitCode, type CliIO } from './io.js';

export function registerSchemaCommands(program: Command, io: CliIO): void {
  const schema = program.command('schema').description('work with the JSON Schemas that define the lake tables');
  schema
    .command('lint')
    .description('check schema files can drive Glue tables, Parquet columns and the validator')
    .argument('[files...]', 'schema files (default: every *.schema.json in --schemas)')
    .option('--schemas <dir>', 'directory of *.schema.json files')
    .option('--json', 'print the issues as JSON')
    .action(async (files: string[], opts: { schemas?: string; json?: boolean }) => {
      const targets = files.length > 0 ? files.map((f) => path.resolve(io.cwd, f)) : await listSchemaFiles(opts.schemas ? path.resolve(io.cwd, opts.schemas) : undefined);
      let failed = 0;
      const report: Array<{ file: string; issues: ReturnType<typeof lintSchema> }> = [];
      for (const file of targets) {
        const issues = lintSchema(await readSchemaFile(file));
        report.push({ file, issues });
        if (issues.length) failed++;
        if (!opts.json) io.stdout.write(issues.length ? `${formatLintIssues(path.relative(io.cwd, file), issues)}\n` : `ok ${path.relative(io.cwd, file)}\n`);
      }
      if (opts.json) io.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
      if (failed) {
        io.stderr.write(`${failed} of ${targets.length} schema file(s) have problems\n`);
        throw new ExitCode(1);
      }
    });
}

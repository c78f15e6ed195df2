import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { AthenaClient } from '@aws-sdk/client-athena';
import type { Command } from 'commander';
import { buildDashboardHtml, type DashboardSource } from '../dashboard/build.js';
import { ClicklakeError } from '../errors.js';
import { runAthenaQuery } from '../query/athena.js';
import { addAthenaOptions, addConfigOption, settingsFor, type ConfigFlags } from './config-flags.js';
import type { CliIO } from './io.js';
import { addLocalOptions, localLakeOf } from './views.js';

interface DashboardFlags extends ConfigFlags {
  athena?: boolean;
  restaurant?: string;
  from?: string;
  to?: string;
  out: string;
  title?: string;
}

export function registerDashboardCommand(program: Command, io: CliIO): Command {
  return addAthenaOptions(addLocalOptions(addConfigOption(program.command('dashboard'))))
    .description('the curated views as one self-contained HTML page for a restaurant owner: charts, tables and CSV downloads (opens offline)')
    .requiredOption('--out <file>', 'the HTML file to write')
    .option('--restaurant <id>', 'only this restaurant (default: all)')
    .option('--from <date>', 'first event date YYYY-MM-DD (UTC), inclusive')
    .option('--to <date>', 'last event date YYYY-MM-DD (UTC), inclusive')
    .option('--title <text>', 'page title (default: "Menu insights")')
    .addHelpText('after', `\nExamples:\n  clicklake dashboard --lake file://./lake --out report.html\n  clicklake dashboard --restaurant rest-001 --from 2024-05-01 --to 2024-05-07 --out week.html\n  clicklake dashboard --athena --database clicklake --out report.html\n`)
    .action(async (flags: DashboardFlags) => {
      const settings = await settingsFor(io, flags);
      const out = path.resolve(io.cwd, flags.out);
      const filter = {
        ...(flags.restaurant !== undefined ? { restaurant: flags.restaurant } : {}),
        ...(flags.from !== undefined ? { from: flags.from } : {}),
        ...(flags.to !== undefined ? { to: flags.to } : {}),
        ...(flags.title !== undefined ? { title: flags.title } : {}),
      };
      let html: string;
      if (flags.athena) {
        const athena = new AthenaClient({});
        const options = {
          workgroup: settings.athena.workgroup,
          database: settings.database,
          ...(settings.athena.outputLocation ? { outputLocation: settings.athena.outputLocation } : {}),
        };
        const source: DashboardSource = { kind: 'athena', run: (sql) => runAthenaQuery(athena, sql, options), label: `Athena database ${settings.database}` };
        try {
          html = await buildDashboardHtml({ source, ...filter });
        } finally {
          athena.destroy();
        }
      } else {
        const source: DashboardSource = {
          kind: 'local',
          lakeDir: localLakeOf(settings, io.cwd),
          ...(settings.schemasDir ? { schemasDir: settings.schemasDir } : {}),
          ...(settings.viewsDir ? { viewsDir: settings.viewsDir } : {}),
        };
        html = await buildDashboardHtml({ source, ...filter });
      }
      try {
        await writeFile(out, html);
      } catch (err) {
        throw new ClicklakeError('write_failed', `cannot write ${out} (${(err as NodeJS.ErrnoException).code ?? String(err)}): pass --out a path in a directory you can write`, { out }, { cause: err });
      }
      io.stdout.write(`wrote ${out} (${Buffer.byteLength(html)} bytes)\n`);
    });
}

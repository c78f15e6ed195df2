import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { GlueClient, type TableInput } from '@aws-sdk/client-glue';
import type { Command } from 'commander';
import { applyCatalogPlan, type ApplyOutcome } from '../catalog/apply.js';
import { changeTarget, PLAN_FORMAT, type CatalogPlan } from '../catalog/changes.js';
import { renderCreateTable } from '../catalog/ddl.js';
import { readLiveCatalog } from '../catalog/glue-live.js';
import { buildPlan, declaredRenames, desiredCatalog, type DesiredCatalog } from '../catalog/plan.js';
import { renderApplyText, renderGlueCalls, renderPlanText } from '../catalog/render-plan.js';
import { tableInputs } from '../catalog/table-input.js';
import type { Settings } from '../config/settings.js';
import { catalogTarget } from '../catalog/target.js';
import { ClicklakeError } from '../errors.js';
import { loadSchemas } from '../schema/load.js';
import type { TableSpec } from '../schema/types.js';
import { addCatalogOptions, settingsFor, type ConfigFlags } from './config-flags.js';
import { ExitCode, type CliIO } from './io.js';

interface CatalogFlags extends ConfigFlags {
  table?: string;
}

interface PlanFlags extends CatalogFlags {
  json?: boolean;
  out?: string;
  rename?: string[];
}

interface ApplyFlags extends PlanFlags {
  allowBreaking?: boolean;
  dryRun?: boolean;
}

/** Options that shape a plan: refused by `apply <plan file>`, which applies the saved plan exactly. */
const PLANNING_OPTIONS = ['config', 'bucket', 'prefix', 'database', 'schemas', 'compression', 'table', 'rename'] as const;

export async function selectTables(io: CliIO, schemasDir: string | undefined, table: string | undefined): Promise<TableSpec[]> {
  const specs = await loadSchemas(schemasDir ? path.resolve(io.cwd, schemasDir) : undefined);
  if (!table) return specs;
  const picked = specs.filter((s) => s.name === table || `${s.name}_raw` === table);
  if (!picked.length) {
    throw new ClicklakeError('unknown_table', `no schema declares table "${table}"; known tables: ${specs.map((s) => s.name).join(', ')}`, { table });
  }
  return picked;
}

/** The TableInputs of the selected tables: `--table <curated>` selects both of its tables, `--table <x>_raw` only the raw one. */
/** The Glue TableInputs of the tables `--table` picks (every schema's raw and curated table by default). */
async function selectedInputs(io: CliIO, flags: CatalogFlags): Promise<{ settings: Settings; inputs: TableInput[] }> {
  const settings = await settingsFor(io, flags);
  const specs = await selectTables(io, settings.schemasDir, flags.table);
  const target = catalogTarget(settings);
  const inputs = specs.flatMap((spec) => tableInputs(spec, target).filter((t) => !flags.table || flags.table === spec.name || t.Name === flags.table));
  return { settings, inputs };
}

async function desiredFor(io: CliIO, settings: Settings, table: string | undefined): Promise<DesiredCatalog> {
  const specs = await selectTables(io, settings.schemasDir, table);
  const desired = desiredCatalog(specs, { database: settings.database, target: catalogTarget(settings), projection: settings.projection });
  if (table) desired.tables = desired.tables.filter((t) => specs.some((s) => table === s.name) || t.Name === table);
  return desired;
}

/** `--rename click_events.old_name=new_name`. */
function parseRenames(values: string[] | undefined): Array<{ table: string; from: string; to: string }> {
  return (values ?? []).map((value) => {
    const m = /^([A-Za-z0-9_]+)\.([A-Za-z0-9_]+)=([A-Za-z0-9_]+)$/.exec(value);
    if (!m) throw new ClicklakeError('bad_flag', `--rename ${value}: write it as <table>.<old column>=<new column>`, { value });
    return { table: m[1]!, from: m[2]!, to: m[3]! };
  });
}

async function makePlan(io: CliIO, glue: GlueClient, flags: PlanFlags): Promise<CatalogPlan> {
  const settings = await settingsFor(io, flags);
  const desired = await desiredFor(io, settings, flags.table);
  const live = await readLiveCatalog(glue, desired.database.Name, desired.tables.map((t) => t.Name!));
  return buildPlan(desired, live, { now: new Date(), resolveRenames: declaredRenames(parseRenames(flags.rename)) });
}

async function readPlanFile(io: CliIO, file: string): Promise<CatalogPlan> {
  const full = path.resolve(io.cwd, file);
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(full, 'utf8'));
  } catch (err) {
    throw new ClicklakeError('plan_file_invalid', `cannot read plan ${full} (${(err as Error).message}): pass a file written by \`clicklake catalog plan --out\``, { file: full });
  }
  const plan = parsed as Partial<CatalogPlan>;
  if (plan?.format !== PLAN_FORMAT || plan.version !== 1 || !Array.isArray(plan.changes) || typeof plan.baselines !== 'object') {
    throw new ClicklakeError('plan_file_invalid', `${full} is not a clicklake catalog plan (version 1): make one with \`clicklake catalog plan --out ${file}\``, { file: full });
  }
  return plan as CatalogPlan;
}

function outcomeJson(outcome: ApplyOutcome): unknown {
  return {
    results: outcome.results.map((r) => ({ type: r.change.type, target: changeTarget(r.change), breaking: r.change.breaking, status: r.status, ...(r.error ? { error: r.error } : {}) })),
    ...(outcome.error ? { error: outcome.error.toJSON() } : {}),
  };
}

function addPlanningOptions(cmd: Command): Command {
  return addCatalogOptions(cmd)
    .option('--table <name>', 'only this table (default: every schema)')
    .option('--rename <table.old=new...>', 'declare a column rename (otherwise a renamed column plans as drop + add)');
}

export function registerCatalogCommands(program: Command, io: CliIO): Command {
  const catalog = program.command('catalog').description('Glue Data Catalog tables derived from the schemas');
  addCatalogOptions(catalog.command('ddl'))
    .option('--table <name>', 'only this table (default: every schema)')
    .description('print Athena CREATE EXTERNAL TABLE statements for the raw and curated tables')
    .action(async (flags: CatalogFlags) => {
      const { settings, inputs } = await selectedInputs(io, flags);
      io.stdout.write(`${inputs.map((t) => renderCreateTable(t, settings.database)).join('\n\n')}\n`);
    });
  addCatalogOptions(catalog.command('table-input'))
    .option('--table <name>', 'only this table (default: every schema)')
    .description('print the Glue TableInput JSON (CreateTable / UpdateTable input) for each table')
    .action(async (flags: CatalogFlags) => {
      const { inputs } = await selectedInputs(io, flags);
      io.stdout.write(`${JSON.stringify(inputs, null, 2)}\n`);
    });

  addPlanningOptions(catalog.command('plan'))
    .description('show what apply would change in Glue; exit code 0 = no changes, 2 = changes, 1 = error')
    .option('--json', 'print the plan as JSON')
    .option('--out <file>', 'save the plan for `clicklake catalog apply <file>`')
    .action(async (flags: PlanFlags) => {
      const glue = new GlueClient({});
      try {
        const plan = await makePlan(io, glue, flags);
        if (flags.out) await writeFile(path.resolve(io.cwd, flags.out), `${JSON.stringify(plan, null, 2)}\n`);
        io.stdout.write(flags.json ? `${JSON.stringify(plan, null, 2)}\n` : renderPlanText(plan.changes, plan.database));
        if (flags.out && !flags.json) io.stdout.write(`Saved the plan to ${flags.out}: apply exactly it with \`clicklake catalog apply ${flags.out}\`.\n`);
        if (plan.changes.length > 0) throw new ExitCode(2);
      } finally {
        glue.destroy();
      }
    });

  addPlanningOptions(catalog.command('apply'))
    .description('make Glue match the schemas: apply a saved plan exactly, or plan and apply')
    .argument('[plan]', 'plan file from `clicklake catalog plan --out` (planning options are then refused)')
    .option('--allow-breaking', 'also apply breaking changes (type changes, drops, renames, partition keys)')
    .option('--dry-run', 'print the Glue API calls (operation and input) without making them')
    .option('--json', 'print the results as JSON')
    .action(async (planFile: string | undefined, flags: ApplyFlags, cmd: Command) => {
      if (planFile) {
        const given = PLANNING_OPTIONS.filter((name) => cmd.getOptionValueSource(name) === 'cli');
        if (given.length > 0) {
          throw new ClicklakeError(
            'planning_flags_with_plan',
            `a saved plan is applied exactly as planned: drop ${given.map((n) => `--${n}`).join(', ')} or make a new plan with them`,
            { options: given },
          );
        }
      }
      const glue = new GlueClient({});
      try {
        const plan = planFile ? await readPlanFile(io, planFile) : await makePlan(io, glue, flags);
        if (!planFile && !flags.json) io.stdout.write(renderPlanText(plan.changes, plan.database));
        if (plan.changes.length === 0) {
          if (flags.json) io.stdout.write(`${JSON.stringify({ results: [] }, null, 2)}\n`);
          else if (planFile) io.stdout.write('The plan has no changes.\n');
          return;
        }
        // A fresh plan was read a moment ago; a saved one is checked against Glue before any call.
        const outcome = await applyCatalogPlan(glue, plan, { allowBreaking: flags.allowBreaking, dryRun: flags.dryRun, verifyPlan: planFile !== undefined });
        if (flags.dryRun) {
          io.stdout.write(flags.json ? `${JSON.stringify({ calls: outcome.calls, ...(outcome.error ? { error: outcome.error.toJSON() } : {}) }, null, 2)}\n` : renderGlueCalls(outcome.calls));
        } else {
          io.stdout.write(flags.json ? `${JSON.stringify(outcomeJson(outcome), null, 2)}\n` : renderApplyText(outcome.results));
        }
        if (outcome.error) throw outcome.error;
      } finally {
        glue.destroy();
      }
    });
  return catalog;
}

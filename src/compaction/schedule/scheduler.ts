import { ClicklakeError } from '../../errors.js';
import { closedHours, formatHour, HOUR_MS, isClosed, type HourStart } from '../../partitions/hours.js';
import { rawKeyHour, rawTablePrefix, type LakeLayout } from '../../partitions/layout.js';
import type { ObjectInfo, ObjectStore } from '../../storage/types.js';
import { fingerprintInputs, isCommitted, type UnitManifest } from '../../manifest/manifest.js';
import { listUnitInputs, readManifest } from '../unit.js';

/**
 * Why a unit is (re)done. `interrupted`: its manifest was withdrawn by a recompaction that has not
 * committed (it crashed, lost its lease, or is still running elsewhere and holds the lease).
 */
export type UnitReason = 'new' | 'interrupted' | 'inputs_changed' | 'settings_changed' | 'forced';

export interface PlannedUnit {
  hour: HourStart;
  reason: UnitReason;
  inputs: ObjectInfo[];
  previous?: UnitManifest;
}

export interface UnitPlan {
  todo: PlannedUnit[];
  /** Closed hours with raw data whose manifest matches: nothing to do. */
  upToDate: string[];
}

export interface ScheduleOptions {
  now: number;
  graceMs: number;
  lookbackMs: number;
  /** Exactly these hours (must be closed). */
  hours?: HourStart[];
  /** Every closed hour with raw data, however old. */
  all?: boolean;
  /** The hours with raw data from `from` to `to` (both included; `to` must be closed). One listing. */
  range?: { from: HourStart; to: HourStart };
  /** Redo units even when their manifest matches. */
  force?: boolean;
  /** What the current settings would record in a manifest; a difference means recompaction. */
  settings: UnitManifest['settings'];
}

function settingsDiffer(a: UnitManifest['settings'] | undefined, b: UnitManifest['settings']): boolean {
  return !a || a.compression !== b.compression || a.maxSkewHours !== b.maxSkewHours || a.schemaHash !== b.schemaHash;
}

/** Every arrival hour with raw objects, from one listing of the table's raw prefix. */
export async function hoursWithData(store: ObjectStore, layout: LakeLayout, table: string): Promise<Map<HourStart, ObjectInfo[]>> {
  const byHour = new Map<HourStart, ObjectInfo[]>();
  for await (const o of store.list(rawTablePrefix(layout, table))) {
    const hour = rawKeyHour(layout, table, o.key);
    if (hour === undefined) continue;
    const list = byHour.get(hour);
    if (list) list.push(o);
    else byHour.set(hour, [o]);
  }
  return byHour;
}

/**
 * The units to compact, oldest first: closed hours (end + grace has passed) in the lookback
 * window (or all of them, or the ones asked for) whose manifest is missing, withdrawn by a
 * recompaction that did not finish, made from other inputs (late Firehose objects change the
 * fingerprint) or with other settings.
 */
export async function planUnits(store: ObjectStore, layout: LakeLayout, table: string, options: ScheduleOptions): Promise<UnitPlan> {
  let candidates: Map<HourStart, ObjectInfo[]>;
  const mustBeClosed = (hour: HourStart): void => {
    if (!isClosed(hour, options.now, options.graceMs)) {
      const closesAt = new Date(hour + HOUR_MS + options.graceMs).toISOString();
      throw new ClicklakeError('hour_not_closed', `hour ${formatHour(hour)} is still open: Firehose may deliver into it until ${closesAt} (hour end + grace). Wait, or pass --now to say what time it is`, { hour: formatHour(hour) });
    }
  };
  if (options.range) {
    const { from, to } = options.range;
    mustBeClosed(to);
    candidates = await hoursWithData(store, layout, table);
    for (const hour of [...candidates.keys()]) if (hour < from || hour > to) candidates.delete(hour);
  } else if (options.hours) {
    for (const hour of options.hours) mustBeClosed(hour);
    candidates = new Map(await Promise.all(options.hours.map(async (h) => [h, await listUnitInputs(store, layout, table, h)] as const)));
  } else if (options.all) {
    candidates = await hoursWithData(store, layout, table);
    for (const hour of [...candidates.keys()]) if (!isClosed(hour, options.now, options.graceMs)) candidates.delete(hour);
  } else {
    const hours = closedHours(options.now, options.graceMs, options.lookbackMs);
    candidates = new Map(await Promise.all(hours.map(async (h) => [h, await listUnitInputs(store, layout, table, h)] as const)));
  }

  const todo: PlannedUnit[] = [];
  const upToDate: string[] = [];
  for (const hour of [...candidates.keys()].sort((a, b) => a - b)) {
    const inputs = candidates.get(hour)!;
    if (inputs.length === 0) continue;
    const previous = await readManifest(store, layout, table, hour);
    let reason: UnitReason | undefined;
    if (!previous) reason = 'new';
    else if (!isCommitted(previous)) reason = 'interrupted';
    else if (previous.fingerprint !== fingerprintInputs(inputs)) reason = 'inputs_changed';
    else if (settingsDiffer(previous.settings, options.settings)) reason = 'settings_changed';
    else if (options.force) reason = 'forced';
    if (reason) todo.push({ hour, reason, inputs, ...(previous ? { previous } : {}) });
    else upToDate.push(formatHour(hour));
  }
  return { todo, upToDate };
}

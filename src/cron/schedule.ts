/**
 * A cron schedule with its zone, ready to be stored with a recurring job:
 * what `recur` validates and computes before it writes anything, and the
 * next run times a listing shows.
 */
import { encodeCronFields } from './encode.js';
import { nextOccurrence } from './next.js';
import { parseCron, type CronSchedule } from './parse.js';
import { checkTimeZone, DEFAULT_TIME_ZONE, encodeTransitions, zoneTable, type ZoneTable } from './zone.js';

/** Everything the core needs to match a schedule, as the texts it stores. */
export interface CompiledCron {
  readonly schedule: CronSchedule;
  /** The zone's name, as checked by {@link checkTimeZone}. */
  readonly timeZone: string;
  /** The fields in the stored form lua/cron.lua decodes (see encode.ts). */
  readonly fieldsText: string;
  readonly table: ZoneTable;
  /** The table's transitions in the stored form, `[[utcStart,offset],…]`. */
  readonly transitionsText: string;
}

/**
 * Parse the expression and check the zone (both throw an
 * InvalidArgumentError subclass), then build the zone's offset table from
 * `now` (UTC seconds).
 */
export function compileCron(expression: string, timeZone: string = DEFAULT_TIME_ZONE, now: number = Date.now() / 1000): CompiledCron {
  const schedule = parseCron(expression);
  const zone = checkTimeZone(timeZone);
  const table = zoneTable(zone, now);
  return {
    schedule,
    timeZone: zone,
    fieldsText: encodeCronFields(schedule.fields),
    table,
    transitionsText: encodeTransitions(table.transitions),
  };
}

/** Options of {@link nextRuns}. */
export interface NextRunsOptions {
  /** UTC seconds; runs strictly after it are listed. */
  after: number;
  /** How many (default 3). */
  count?: number;
  /** The zone's table; built from `after` when not given. */
  table?: ZoneTable;
}

/** The next run times (UTC seconds, ascending) of a compiled schedule. */
export function nextRuns(cron: Pick<CompiledCron, 'schedule' | 'timeZone'>, options: NextRunsOptions): number[] {
  const table = options.table ?? zoneTable(cron.timeZone, options.after);
  const runs: number[] = [];
  let after = options.after;
  for (let i = 0; i < (options.count ?? 3); i++) {
    const next = nextOccurrence(cron.schedule.fields, table.transitions, after);
    if (next === null) break;
    runs.push(next);
    after = next;
  }
  return runs;
}

/**
 * What the client hands the core for a cron template (see the header of
 * lua/recurring.lua): the `recur` arguments, the `recur.update cron` value,
 * and whether a stored zone table should be sent again. One place, so that
 * `recur`, `update` and the refresh cannot send different shapes.
 */
import { compileCron, type CompiledCron } from './schedule.js';
import { tableNeedsRefresh } from './zone.js';

/** A compiled schedule as the core stores it. */
export interface StoredCron {
  readonly compiled: CompiledCron;
  /** `cron <fields> <table>`: the spec and its two positional arguments of `recur`. */
  readonly recurSpec: readonly [string, string, string];
  /** The option pairs of `recur` that name the expression, the zone and the table's reach. */
  readonly recurOptions: ReadonlyArray<string | number>;
  /** The value of `recur.update <jid> cron <value>`. */
  readonly updateValue: string;
}

/**
 * Compile `expression` in `timeZone` with a zone table built from `now`
 * (UTC seconds). Throws CronExpressionError or UnknownTimeZoneError.
 */
export function storedCron(expression: string, timeZone: string | undefined, now: number): StoredCron {
  const compiled = compileCron(expression, timeZone, now);
  const { table } = compiled;
  const tzdata = table.tzdata ?? '';
  return {
    compiled,
    recurSpec: ['cron', compiled.fieldsText, compiled.transitionsText],
    recurOptions: ['cron', compiled.schedule.expression, 'timezone', compiled.timeZone, 'zone-until', table.until, 'zone-tzdata', tzdata],
    updateValue: JSON.stringify({
      expression: compiled.schedule.expression,
      fields: compiled.fieldsText,
      timezone: compiled.timeZone,
      transitions: table.transitions,
      until: table.until,
      tzdata,
    }),
  };
}

/**
 * Whether a template's stored table (its `zone_until` and `zone_tzdata`
 * from recur.get) should be built again at `now`: it runs out within
 * REFRESH_MONTHS, or this runtime knows newer zone rules than the one that
 * built it. A template stored without them (another client) always is.
 */
export function storedTableIsShort(until: number | undefined, tzdata: string | undefined, now: number): boolean {
  if (until === undefined || until <= 0) return true;
  return tableNeedsRefresh({ until, tzdata: tzdata === '' ? undefined : tzdata }, now);
}

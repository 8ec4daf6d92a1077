/**
 * The next run of a cron schedule after an instant, in a zone given as a
 * table of UTC offsets: the TypeScript twin of lua/cron.lua (same steps,
 * same names), used for "next runs" listings and to check the Lua matcher.
 *
 * What "the next run" means, with local wall times L that match the fields:
 * - L that happens once runs then;
 * - L that happens twice (the hour repeated when clocks fall back) runs at
 *   its first happening only;
 * - L that never happens (the hour skipped when clocks spring forward) runs
 *   at the first instant after the gap, i.e. the moment of the change; so
 *   several skipped times collapse into one run there.
 * The search walks wall times field by field (month, day, hour, minute,
 * second), never minute by minute, and turns the first match into an
 * instant with two binary searches over the table.
 */
import { daysFromCivil, daysInMonth, secondsOfWallTime, wallTimeOf, weekdayOfDays } from './calendar.js';
import type { CronFields } from './fields.js';
import type { Transition } from './zone.js';

/**
 * The search gives up after this many years of wall time. A valid
 * expression's longest wait is about 40 years (February 29th on a given
 * weekday, around 2100); one that never runs is refused by the parser.
 */
export const SEARCH_YEARS = 50;

/** Each field as a lookup by value: `set[v]` is true when v is allowed. */
interface FieldTable {
  second: boolean[];
  minute: boolean[];
  hour: boolean[];
  dayOfMonth: boolean[];
  month: boolean[];
  dayOfWeek: boolean[];
  or: boolean;
}

const tables = new WeakMap<CronFields, FieldTable>();

function tableOf(fields: CronFields): FieldTable {
  let table = tables.get(fields);
  if (!table) {
    const lookup = (values: readonly number[], size: number) => {
      const set = new Array<boolean>(size).fill(false);
      for (const value of values) set[value] = true;
      return set;
    };
    table = {
      second: lookup(fields.second, 60),
      minute: lookup(fields.minute, 60),
      hour: lookup(fields.hour, 24),
      dayOfMonth: lookup(fields.dayOfMonth, 32),
      month: lookup(fields.month, 13),
      dayOfWeek: lookup(fields.dayOfWeek, 7),
      or: fields.dayRule === 'or',
    };
    tables.set(fields, table);
  }
  return table;
}

/** The smallest allowed value ≥ `from` up to `last`, or -1. */
function nextAllowed(set: readonly boolean[], from: number, last: number): number {
  for (let value = from; value <= last; value++) if (set[value]) return value;
  return -1;
}

/**
 * The first wall time at or after `wall` (seconds, see calendar.ts) that the
 * fields allow, or null when none comes within {@link SEARCH_YEARS} years.
 */
export function nextWallTime(fields: CronFields, wall: number): number | null {
  const f = tableOf(fields);
  let { year, month, day, hour, minute, second } = wallTimeOf(wall);
  const lastYear = year + SEARCH_YEARS;
  for (;;) {
    // Carry a field that ran past its end into the next one up.
    if (second > 59) { second = 0; minute += 1; }
    if (minute > 59) { minute = 0; hour += 1; }
    if (hour > 23) { hour = 0; day += 1; }
    if (day > daysInMonth(year, month)) { day = 1; month += 1; }
    if (month > 12) { month = 1; year += 1; }
    if (year > lastYear) return null;

    if (!f.month[month]) {
      const next = nextAllowed(f.month, month, 12);
      if (next < 0) { month = 13; } else { month = next; }
      day = 1; hour = 0; minute = 0; second = 0;
      continue;
    }
    const domOk = f.dayOfMonth[day] === true;
    const dowOk = f.dayOfWeek[weekdayOfDays(daysFromCivil(year, month, day))] === true;
    if (f.or ? !(domOk || dowOk) : !(domOk && dowOk)) {
      // Under `and` a day of month not in the set can be jumped over; under
      // `or` any day may still match by its weekday.
      if (!f.or && !domOk) {
        const next = nextAllowed(f.dayOfMonth, day + 1, 31);
        day = next < 0 ? 32 : next;
      } else {
        day += 1;
      }
      hour = 0; minute = 0; second = 0;
      continue;
    }
    if (!f.hour[hour]) {
      const next = nextAllowed(f.hour, hour, 23);
      hour = next < 0 ? 24 : next;
      minute = 0; second = 0;
      continue;
    }
    if (!f.minute[minute]) {
      const next = nextAllowed(f.minute, minute, 59);
      minute = next < 0 ? 60 : next;
      second = 0;
      continue;
    }
    if (!f.second[second]) {
      const next = nextAllowed(f.second, second, 59);
      second = next < 0 ? 60 : next;
      continue;
    }
    return secondsOfWallTime({ year, month, day, hour, minute, second });
  }
}

/**
 * Index of the last segment that starts at or before `value`: by UTC start,
 * or with `wall` by the local time it starts at (0 when none does).
 */
function segmentIndex(transitions: readonly Transition[], value: number, wall: boolean): number {
  let low = 0;
  let high = transitions.length - 1;
  while (low < high) {
    const middle = Math.ceil((low + high) / 2);
    const [start, offset] = transitions[middle]!;
    if (start + (wall ? offset : 0) <= value) low = middle;
    else high = middle - 1;
  }
  return low;
}

/**
 * The instant a wall time runs at: its first happening, or for a wall time
 * in a spring-forward gap the end of the gap.
 */
export function instantOfWallTime(transitions: readonly Transition[], wall: number): number {
  const k = segmentIndex(transitions, wall, true);
  const [start, offset] = transitions[k]!;
  // Clocks fell back at `start` and the previous segment also shows this
  // wall time: that earlier happening is the one that runs.
  if (k > 0) {
    const previousOffset = transitions[k - 1]![1];
    if (wall < start + previousOffset) return wall - previousOffset;
  }
  // Past this segment's local end but before the next one's local start:
  // skipped by a spring forward, so it runs when the gap ends.
  const following = transitions[k + 1];
  if (following && wall >= following[0] + offset) return following[0];
  return wall - offset;
}

/**
 * The first wall time whose run is at or after the instant `at`: `at` read
 * on the local clock, moved back to the start of a gap that ends exactly at
 * `at`, or forward past a repeated hour whose first pass is over.
 */
function firstWallTimeFrom(transitions: readonly Transition[], at: number): number {
  const i = segmentIndex(transitions, at, false);
  const [start, offset] = transitions[i]!;
  let wall = at + offset;
  if (i > 0) {
    const previousOffset = transitions[i - 1]![1];
    if (previousOffset > offset && wall < start + previousOffset) wall = start + previousOffset;
    if (previousOffset < offset && at === start) wall = start + previousOffset;
  }
  return wall;
}

/**
 * The first run strictly after the instant `after` (UTC seconds, may be
 * fractional), as whole UTC seconds; null when there is none within
 * {@link SEARCH_YEARS} years. Past the table's end its last offset holds.
 */
export function nextOccurrence(fields: CronFields, transitions: readonly Transition[], after: number): number | null {
  const at = Math.floor(after) + 1;
  const wall = nextWallTime(fields, firstWallTimeFrom(transitions, at));
  return wall === null ? null : instantOfWallTime(transitions, wall);
}

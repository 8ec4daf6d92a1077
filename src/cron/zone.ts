/**
 * Time zones for cron schedules. Redis's Lua has no time-zone data, so the
 * client works out a zone's UTC offsets with `Intl` and hands the core a
 * small table of offset changes for the years ahead; lua/cron.lua matches
 * against that table. This module validates zone names, builds the table and
 * says when a stored table should be built again.
 */
import { wallTimeOf, secondsOfWallTime, SECONDS_PER_DAY } from './calendar.js';
import { UnknownTimeZoneError } from './errors.js';
import { twoDigits as two } from './words.js';

/** The zone of a schedule that names none. */
export const DEFAULT_TIME_ZONE = 'UTC';

/** `[utcStart, offsetSeconds]`: from `utcStart` (UTC seconds) on, local time is UTC + `offsetSeconds`. */
export type Transition = readonly [utcStart: number, offsetSeconds: number];

/** A zone's UTC offsets over a span of time, as the core stores them. */
export interface ZoneTable {
  readonly zone: string;
  /** UTC seconds the table was built for: it is exact from here … */
  readonly from: number;
  /** … to here; past it the last offset is assumed. */
  readonly until: number;
  /** The runtime's time-zone database version that built it (`process.versions.tz`), if known. */
  readonly tzdata: string | undefined;
  /** Ascending by `utcStart`; the first entry is the offset in force before the first change. */
  readonly transitions: readonly Transition[];
}

/** Years a new table covers. */
export const TABLE_YEARS = 10;

/** A table is built again when less than this many months of it remain. */
export const REFRESH_MONTHS = 24;

const AVERAGE_YEAR = 31_556_952; // seconds in an average Gregorian year
const AVERAGE_MONTH = AVERAGE_YEAR / 12;

/** How far before `from` a table starts, so that it knows the offset a recent change left behind. */
const LOOK_BACK = 2 * SECONDS_PER_DAY;

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterOf(zone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(zone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
      era: 'short',
    });
    formatters.set(zone, formatter);
  }
  return formatter;
}

/**
 * The zone's IANA name, checked against the runtime's time-zone database;
 * throws {@link UnknownTimeZoneError} for a name it does not know (and for
 * fixed offsets such as `+01:00`, which are not zones). A name that differs
 * from the database's only in case is returned in the database's spelling.
 */
export function checkTimeZone(zone: string): string {
  const name = typeof zone === 'string' ? zone.trim() : String(zone);
  if (typeof zone !== 'string' || !/^[A-Za-z]/.test(name)) throw new UnknownTimeZoneError(name);
  let resolved: string;
  try {
    resolved = new Intl.DateTimeFormat('en-US', { timeZone: name }).resolvedOptions().timeZone;
  } catch {
    throw new UnknownTimeZoneError(name);
  }
  return resolved.toLowerCase() === name.toLowerCase() ? resolved : name;
}

/** Seconds east of UTC in `zone` at the UTC instant `seconds` (whole seconds). */
export function utcOffsetAt(zone: string, seconds: number): number {
  const at = Math.floor(seconds);
  const parts: Record<string, string> = {};
  for (const part of formatterOf(zone).formatToParts(new Date(at * 1000))) parts[part.type] = part.value;
  const year = Number(parts['year']);
  const wall = secondsOfWallTime({
    year: parts['era'] === 'BC' ? 1 - year : year,
    month: Number(parts['month']),
    day: Number(parts['day']),
    hour: Number(parts['hour']),
    minute: Number(parts['minute']),
    second: Number(parts['second']),
  });
  return wall - at;
}

/**
 * The zone's offset changes from `from` for `years` years. The offset is
 * sampled once a day and each change is pinned to the second by bisection,
 * so a change undone within the same day would be missed: no zone does that.
 */
export function zoneTable(zone: string, from: number, years: number = TABLE_YEARS): ZoneTable {
  const name = checkTimeZone(zone);
  const start = Math.floor(from) - LOOK_BACK;
  const until = Math.floor(from) + Math.round(years * AVERAGE_YEAR);
  let offset = utcOffsetAt(name, start);
  const transitions: Transition[] = [[start, offset]];
  for (let low = start; low < until; ) {
    const high = Math.min(low + SECONDS_PER_DAY, until);
    const offsetAtHigh = utcOffsetAt(name, high);
    if (offsetAtHigh !== offset) {
      const change = firstChange(name, low, high, offset);
      offset = utcOffsetAt(name, change);
      transitions.push([change, offset]);
      low = change;
    } else {
      low = high;
    }
  }
  return { zone: name, from: Math.floor(from), until, tzdata: process.versions.tz, transitions };
}

/** The first second in (low, high] whose offset is not `offset` (the offset at `low`). */
function firstChange(zone: string, low: number, high: number, offset: number): number {
  let before = low;
  let after = high;
  while (after - before > 1) {
    const middle = Math.floor((before + after) / 2);
    if (utcOffsetAt(zone, middle) === offset) before = middle;
    else after = middle;
  }
  return after;
}

/**
 * Whether a stored table should be built again: when less than
 * {@link REFRESH_MONTHS} months of it remain at `now`, or when this runtime's
 * time-zone database is newer than the one that built it (a country may have
 * changed its rules since).
 */
export function tableNeedsRefresh(table: Pick<ZoneTable, 'until' | 'tzdata'>, now: number, runtimeTzdata = process.versions.tz): boolean {
  if (table.until - now < REFRESH_MONTHS * AVERAGE_MONTH) return true;
  return runtimeTzdata !== undefined && table.tzdata !== undefined && runtimeTzdata > table.tzdata;
}

/** The transitions as the core stores them: `[[utcStart,offset],…]`. */
export function encodeTransitions(transitions: readonly Transition[]): string {
  return JSON.stringify(transitions);
}

/** Stored transitions read back; throws when the text is not such a table. */
export function decodeTransitions(text: string): Transition[] {
  const value: unknown = JSON.parse(text);
  const valid =
    Array.isArray(value) &&
    value.length > 0 &&
    value.every(
      (entry: unknown, i: number) =>
        Array.isArray(entry) &&
        entry.length === 2 &&
        entry.every(Number.isInteger) &&
        (i === 0 || (entry[0] as number) > (value[i - 1] as number[])[0]!),
    );
  if (!valid) throw new Error(`not a time-zone transition table: ${text.slice(0, 80)}`);
  return value as Transition[];
}

/** An instant as ISO 8601 local time with its offset in `zone`, e.g. `2026-03-29T03:00:00+02:00`. */
export function formatInZone(seconds: number, zone: string): string {
  const at = Math.floor(seconds);
  const offset = utcOffsetAt(zone, at);
  const wall = wallTimeOf(at + offset);
  const sign = offset < 0 ? '-' : '+';
  const size = Math.abs(offset);
  const offsetText = `${sign}${two(Math.floor(size / 3600))}:${two(Math.floor((size % 3600) / 60))}${size % 60 ? `:${two(size % 60)}` : ''}`;
  return `${String(wall.year).padStart(4, '0')}-${two(wall.month)}-${two(wall.day)}T${two(wall.hour)}:${two(wall.minute)}:${two(wall.second)}${offsetText}`;
}

/**
 * What a parsed cron expression is: one set of allowed values per calendar
 * field, plus how day of month and day of week combine. The parser makes it,
 * the matchers (TypeScript and lua/cron.lua) and the describer read it.
 */

/** The six fields in the order of a six-field expression (seconds first). */
export type CronFieldName = 'second' | 'minute' | 'hour' | 'dayOfMonth' | 'month' | 'dayOfWeek';

/**
 * How a day is chosen when day of month and day of week are both given.
 * `or` (both restricted): a day matching either runs, as Vixie cron and
 * POSIX do, so `0 0 1 * MON` runs on the 1st and on every Monday. `and`:
 * the day must match both, which is what a `*` in either field means.
 */
export type DayRule = 'or' | 'and';

/** The allowed values of each field, each list sorted and without repeats. */
export interface CronFields {
  /** 0–59; `[0]` when the expression has five fields. */
  readonly second: readonly number[];
  /** 0–59. */
  readonly minute: readonly number[];
  /** 0–23. */
  readonly hour: readonly number[];
  /** 1–31. */
  readonly dayOfMonth: readonly number[];
  /** 1–12. */
  readonly month: readonly number[];
  /** 0–6, Sunday = 0 (a `7` in the expression is stored as 0). */
  readonly dayOfWeek: readonly number[];
  readonly dayRule: DayRule;
}

/** How one field is written and what it may hold. */
export interface FieldSpec {
  readonly name: CronFieldName;
  /** The name a person reads in an error message. */
  readonly label: string;
  readonly min: number;
  /** Largest value accepted in the text (7 for day of week, stored as 0). */
  readonly max: number;
  /** Largest value stored (6 for day of week). */
  readonly storedMax: number;
  /** Three-letter names, upper case, to the value they stand for. */
  readonly names?: Readonly<Record<string, number>>;
}

export const MONTH_NAMES = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'] as const;
export const DAY_NAMES = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'] as const;

const indexOf = (names: readonly string[], first: number): Record<string, number> =>
  Object.fromEntries(names.map((name, i) => [name, i + first]));

/** Every field, in the order of a six-field expression. */
export const FIELD_SPECS: readonly FieldSpec[] = [
  { name: 'second', label: 'second', min: 0, max: 59, storedMax: 59 },
  { name: 'minute', label: 'minute', min: 0, max: 59, storedMax: 59 },
  { name: 'hour', label: 'hour', min: 0, max: 23, storedMax: 23 },
  { name: 'dayOfMonth', label: 'day of month', min: 1, max: 31, storedMax: 31 },
  { name: 'month', label: 'month', min: 1, max: 12, storedMax: 12, names: indexOf(MONTH_NAMES, 1) },
  { name: 'dayOfWeek', label: 'day of week', min: 0, max: 7, storedMax: 6, names: indexOf(DAY_NAMES, 0) },
];

/**
 * The stored form of a schedule's fields, the text lua/cron.lua decodes:
 * the day rule, then each field as a string of `0`/`1` with one character
 * per value, e.g. `or <60 seconds> <60 minutes> <24 hours> <31 days of
 * month> <12 months> <7 days of week>`. Lua tests a value with one
 * string.byte and finds the next allowed one with one plain string.find,
 * both C calls, so the pop that spawns a cron child decodes it for free.
 */
import type { CronFields, CronFieldName, DayRule } from './fields.js';

/** Each field's first value and number of values, in stored order. */
const LAYOUT: ReadonlyArray<readonly [CronFieldName, number, number]> = [
  ['second', 0, 60],
  ['minute', 0, 60],
  ['hour', 0, 24],
  ['dayOfMonth', 1, 31],
  ['month', 1, 12],
  ['dayOfWeek', 0, 7],
];

export function encodeCronFields(fields: CronFields): string {
  const parts: string[] = [fields.dayRule];
  for (const [name, first, size] of LAYOUT) {
    const bits = new Array<string>(size).fill('0');
    for (const value of fields[name]) bits[value - first] = '1';
    parts.push(bits.join(''));
  }
  return parts.join(' ');
}

/** The fields of a stored text; throws when the text is not in this form. */
export function decodeCronFields(text: string): CronFields {
  const parts = text.split(' ');
  const rule = parts[0];
  const wellFormed =
    parts.length === LAYOUT.length + 1 &&
    (rule === 'or' || rule === 'and') &&
    LAYOUT.every(([, , size], i) => new RegExp(`^[01]{${size}}$`).test(parts[i + 1]!) && parts[i + 1]!.includes('1'));
  if (!wellFormed) throw new Error(`not a stored cron schedule: ${text.slice(0, 80)}`);
  const values = (bits: string, first: number) =>
    [...bits].flatMap((bit, i) => (bit === '1' ? [i + first] : []));
  const [second, minute, hour, dayOfMonth, month, dayOfWeek] = LAYOUT.map(([, first], i) => values(parts[i + 1]!, first)) as [
    number[], number[], number[], number[], number[], number[],
  ];
  return { second, minute, hour, dayOfMonth, month, dayOfWeek, dayRule: rule as DayRule };
}

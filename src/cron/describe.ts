/**
 * A schedule in words, for the CLI and the dashboard: "at 02:30 every day
 * (Europe/Berlin)", "every 15 minutes", "at 09:00 on Monday to Friday".
 * Common shapes get a natural phrase; anything else is still described
 * exactly, field by field, if less gracefully.
 */
import { DEFAULT_TIME_ZONE } from './zone.js';
import { dayWord, joinWords, monthWord, ordinal, twoDigits as two } from './words.js';
import type { CronFields } from './fields.js';
import type { CronSchedule } from './parse.js';

/** The spacing of three or more evenly spaced values (at least 2 apart), else undefined. */
function stepOf(values: readonly number[]): number | undefined {
  if (values.length < 3) return undefined;
  const step = values[1]! - values[0]!;
  if (step < 2) return undefined;
  return values.every((value, i) => i === 0 || value - values[i - 1]! === step) ? step : undefined;
}

const isRun = (values: readonly number[]) => values.every((value, i) => i === 0 || value === values[i - 1]! + 1);

/** Numbers as words: `5`, `1 and 15`, `9 to 17`, `1 to 5 and 20`. */
function numbers(values: readonly number[]): string {
  const runs: number[][] = [];
  for (const value of values) {
    const last = runs[runs.length - 1];
    if (last && last[last.length - 1] === value - 1) last.push(value);
    else runs.push([value]);
  }
  return joinWords(
    runs.flatMap((run) => (run.length >= 3 ? [`${run[0]} to ${run[run.length - 1]}`] : run.map(String))),
  );
}

/**
 * Values of a field with their unit: `hour 5`, `hours 9 to 17`, `every 2nd
 * hour`, `every 3rd hour from 1 to 22` (`first` and `last` are the field's
 * bounds, to tell a whole-field step from a partial one).
 */
function valuesOf(values: readonly number[], unit: string, first: number, last: number): string {
  const step = stepOf(values);
  if (step === undefined) return `${unit}${values.length > 1 ? 's' : ''} ${numbers(values)}`;
  const low = values[0]!;
  const high = values[values.length - 1]!;
  const whole = low === first && high + step > last;
  return `every ${ordinal(step)} ${unit}${whole ? '' : ` from ${low} to ${high}`}`;
}

/** `every N <unit>s` when the values are 0, N, 2N … to the end of a field of `size` values. */
function everyFromZero(values: readonly number[], size: number, unit: string): string | undefined {
  if (values.length === size) return `every ${unit}`;
  const step = values.length >= 2 ? values[1]! - values[0]! : 0;
  const whole = values[0] === 0 && step > 1 && values.every((value, i) => value === i * step) && values[values.length - 1]! + step >= size;
  return whole ? `every ${step} ${unit}s` : undefined;
}

/** The time-of-day part, and whether it names clock times (so "every day" reads well after it). */
function timeWords(fields: CronFields): { text: string; clock: boolean } {
  const { second, minute, hour } = fields;
  const secondText = second.length === 1 && second[0] !== 0 ? `:${two(second[0]!)}` : '';
  const clock = (h: number, m: number) => `${two(h)}:${two(m)}${secondText}`;

  if (second.length === 1 && minute.length === 1) {
    const m = minute[0]!;
    if (hour.length <= 4) return { text: `at ${joinWords(hour.map((h) => clock(h, m)))}`, clock: true };
    if (secondText === '') {
      const every = everyFromZero(hour, 24, 'hour');
      if (every) return { text: m === 0 ? every : `${every} at minute ${m}`, clock: false };
      if (isRun(hour)) return { text: `every hour from ${clock(hour[0]!, m)} to ${clock(hour[hour.length - 1]!, m)}`, clock: false };
      return { text: `at minute ${m} past ${valuesOf(hour, 'hour', 0, 23)}`, clock: false };
    }
  }

  const parts: string[] = [];
  const everySecond = everyFromZero(second, 60, 'second');
  if (everySecond) parts.push(everySecond);
  else if (second.length !== 1 || second[0] !== 0) parts.push(`at ${valuesOf(second, 'second', 0, 59)}`);

  const everyMinute = everyFromZero(minute, 60, 'minute');
  const minuteStep = everyMinute !== undefined;
  if (everyMinute && !(everySecond && minute.length === 60)) parts.push(parts.length > 0 && minute.length === 60 ? 'of every minute' : everyMinute);
  else if (!everyMinute) parts.push(`${parts.length > 0 ? 'during' : 'at'} ${valuesOf(minute, 'minute', 0, 59)}`);

  if (hour.length === 24) {
    if (!minuteStep) parts.push('of every hour');
  } else if (minuteStep && isRun(hour) && second.length === 1) {
    parts.push(`from ${clock(hour[0]!, minute[0]!)} to ${clock(hour[hour.length - 1]!, minute[minute.length - 1]!)}`);
  } else {
    parts.push(`${minuteStep ? 'during' : 'past'} ${valuesOf(hour, 'hour', 0, 23)}`);
  }
  return { text: parts.join(' '), clock: false };
}

/** Weekdays in Monday-first order, with runs of three or more as `Monday to Friday`. */
function weekdayWords(days: readonly number[]): string {
  const mondayFirst = [...days].map((day) => (day + 6) % 7).sort((a, b) => a - b);
  const name = (index: number) => dayWord((index + 1) % 7);
  if (mondayFirst.length >= 3 && isRun(mondayFirst)) return `${name(mondayFirst[0]!)} to ${name(mondayFirst[mondayFirst.length - 1]!)}`;
  return joinWords(mondayFirst.map(name));
}

function monthWords(months: readonly number[]): string {
  if (months.length >= 4 && isRun(months)) return `from ${monthWord(months[0]!)} to ${monthWord(months[months.length - 1]!)}`;
  return `in ${joinWords(months.map(monthWord))}`;
}

/** The days part (empty when every day runs), then the months part. */
function dayWords(fields: CronFields): string {
  const { dayOfMonth, dayOfWeek, month, dayRule } = fields;
  const allDays = dayOfMonth.length === 31;
  const allWeekdays = dayOfWeek.length === 7;
  const everyMonth = month.length === 12;
  const monthText = everyMonth ? '' : ` ${monthWords(month)}`;
  const daysOfMonth = `${valuesOf(dayOfMonth, 'day', 1, 31)} of the month`;

  if (dayRule === 'or') return ` on ${daysOfMonth} and on ${weekdayWords(dayOfWeek)}${monthText}`;
  if (allDays && allWeekdays) return everyMonth ? '' : ` every day${monthText}`;
  if (allDays) return ` on ${weekdayWords(dayOfWeek)}${monthText}`;
  if (dayOfMonth.length === 1 && month.length === 1 && allWeekdays) return ` on ${dayOfMonth[0]} ${monthWord(month[0]!)}`;
  const weekdays = allWeekdays ? '' : ` if it is a ${joinWords(dayOfWeek.map(dayWord), 'or')}`;
  return ` on ${daysOfMonth}${weekdays}${monthText}`;
}

/**
 * The schedule in words; the zone is named after it unless it is UTC.
 * Pass the schedule's zone as stored with the job.
 */
export function describeCron(schedule: CronSchedule | CronFields, timeZone: string = DEFAULT_TIME_ZONE): string {
  const fields = 'fields' in schedule ? schedule.fields : schedule;
  const time = timeWords(fields);
  let days = dayWords(fields);
  if (days === '' && time.clock) days = ' every day';
  const zone = timeZone === DEFAULT_TIME_ZONE ? '' : ` (${timeZone})`;
  return `${time.text}${days}${zone}`;
}

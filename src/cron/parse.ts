/**
 * The cron parser and validator: text in, {@link CronSchedule} out, or a
 * {@link CronExpressionError} that names the field and the part at fault.
 *
 * Accepted: five fields (minute hour day-of-month month day-of-week) or six
 * with seconds first; `*`, numbers, ranges `a-b`, lists `a,b`, steps `*∕n`,
 * `a-b∕n` and `a∕n` (from a to the field's end); three-letter month and day
 * names in any case; `7` for Sunday; `?` as `*` in the two day fields; and
 * @yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly.
 * Refused: anything else, including Quartz's L, W and #, which the Lua
 * matcher does not implement, and expressions that can never run.
 */
import { daysInMonth } from './calendar.js';
import { CronExpressionError } from './errors.js';
import { FIELD_SPECS, type CronFields, type DayRule, type FieldSpec } from './fields.js';
import { joinWords, monthWord, ordinal } from './words.js';

/** A parsed, valid cron expression. */
export interface CronSchedule {
  /** The expression as given, without surrounding white space. */
  readonly expression: string;
  readonly fields: CronFields;
}

const SHORTHANDS: Readonly<Record<string, string>> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};

/** Parse and validate a cron expression; throws {@link CronExpressionError}. */
export function parseCron(expression: string): CronSchedule {
  if (typeof expression !== 'string') {
    throw new CronExpressionError(String(expression), 'a cron expression must be a string');
  }
  const given = expression.trim();
  const refuse = (problem: string): never => {
    throw new CronExpressionError(given, problem);
  };
  if (given === '') refuse('it is empty');

  let text = given;
  if (given.startsWith('@')) {
    const name = given.toLowerCase();
    if (name === '@reboot') refuse('@reboot has no meaning for a job queue; give a schedule');
    const expanded = SHORTHANDS[name];
    if (expanded === undefined) refuse(`unknown shorthand "${given}"; use ${joinWords(Object.keys(SHORTHANDS), 'or')}`);
    text = expanded!;
  }

  const parts = text.split(/\s+/);
  if (parts.length !== 5 && parts.length !== 6) {
    refuse(
      `it has ${parts.length} field${parts.length === 1 ? '' : 's'}; expected 5 (minute hour day-of-month month ` +
        'day-of-week) or 6 (second minute hour day-of-month month day-of-week)',
    );
  }
  const texts = parts.length === 5 ? ['0', ...parts] : parts;
  const positionOffset = parts.length === 5 ? 0 : 1;

  const sets = FIELD_SPECS.map((spec, i) => {
    const position = i + positionOffset;
    return parseField(texts[i]!, spec, (problem) => {
      throw new CronExpressionError(given, `${ordinal(position)} field (${spec.label}) "${texts[i]}": ${problem}`, {
        field: spec.label,
        position,
      });
    });
  });
  const [second, minute, hour, dayOfMonth, month, dayOfWeek] = sets as [number[], number[], number[], number[], number[], number[]];

  // Vixie cron's rule: a day field written with a leading `*` (or `?`)
  // counts as unrestricted, and then the other day field alone decides;
  // when both are restricted, a day matching either runs.
  const unrestricted = (fieldText: string) => fieldText.startsWith('*') || fieldText.startsWith('?');
  const dayRule: DayRule = unrestricted(texts[3]!) || unrestricted(texts[5]!) ? 'and' : 'or';

  const fields: CronFields = { second, minute, hour, dayOfMonth, month, dayOfWeek, dayRule };
  const never = neverRuns(fields);
  if (never !== undefined) refuse(`it never runs: ${never}`);
  return { expression: given, fields };
}

type Refuse = (problem: string) => never;

/** The sorted values one field allows. */
function parseField(text: string, spec: FieldSpec, refuse: Refuse): number[] {
  const values = new Set<number>();
  const isDayField = spec.name === 'dayOfMonth' || spec.name === 'dayOfWeek';
  // `*` of the day of week runs 0-6: 7 is only another spelling of Sunday.
  const fieldEnd = spec.storedMax;
  for (const item of text.split(',')) {
    if (item === '') refuse('a list has an empty item');
    const [base, step, ...extra] = item.split('/');
    if (extra.length > 0) refuse(`"${item}" has more than one "/"`);
    let low: number;
    let high: number;
    if (base === '*' || base === '?') {
      if (base === '?' && !isDayField) refuse('"?" is only allowed in the day-of-month and day-of-week fields');
      low = spec.min;
      high = fieldEnd;
    } else if (base!.includes('-')) {
      const bounds = base!.split('-');
      if (bounds.length !== 2) refuse(`"${base}" is not a range (write it as start-end)`);
      low = valueOf(bounds[0]!, spec, refuse);
      high = valueOf(bounds[1]!, spec, refuse);
      // `FRI-SUN`: a Sunday written by name closes a range as 7.
      if (spec.name === 'dayOfWeek' && high === 0 && low > 0 && /^[a-z]+$/i.test(bounds[1]!)) high = 7;
      if (low > high) refuse(`the range "${base}" runs backwards (${low} is after ${high})`);
    } else {
      low = valueOf(base!, spec, refuse);
      // `5/15`: from 5 to the field's end in steps of 15.
      high = step === undefined ? low : fieldEnd;
    }
    let stride = 1;
    if (step !== undefined) {
      const span = fieldEnd - spec.min + 1;
      if (!/^\d+$/.test(step) || Number(step) < 1 || Number(step) > span) {
        refuse(`the step "${step}" must be a whole number from 1 to ${span}`);
      }
      stride = Number(step);
    }
    for (let value = low; value <= high; value += stride) {
      values.add(spec.name === 'dayOfWeek' && value === 7 ? 0 : value);
    }
  }
  return [...values].sort((a, b) => a - b);
}

/** One number or name of a field, checked against the field's range. */
function valueOf(token: string, spec: FieldSpec, refuse: Refuse): number {
  if (/^\d+$/.test(token)) {
    const value = Number(token);
    if (value < spec.min || value > spec.max) refuse(`${token} is out of range ${spec.min}-${spec.max}`);
    return value;
  }
  if (spec.names) {
    const named = spec.names[token.toUpperCase()];
    if (named !== undefined) return named;
  }
  if (/[LW#]/i.test(token) && (spec.name === 'dayOfMonth' || spec.name === 'dayOfWeek')) {
    refuse('L, W and # are not supported');
  }
  if (token === '') refuse('a range or step is missing a number');
  const names = spec.names ? Object.keys(spec.names) : [];
  const expected = names.length > 0 ? `a number or a name (${names[0]}-${names[names.length - 1]})` : 'a number';
  return refuse(`"${token}" is not ${expected}`);
}

/**
 * Why the days can never come (a day of month no chosen month has, and
 * day of week not there to rescue it), or undefined when they can. With
 * this refused, every valid expression runs at least once in 40 years
 * (the worst: February 29th on one given weekday, around 2100).
 */
function neverRuns(fields: CronFields): string | undefined {
  if (fields.dayRule === 'or') return undefined;
  // 2000 is a leap year: each month at its longest.
  const fits = fields.month.some((month) => fields.dayOfMonth.some((day) => day <= daysInMonth(2000, month)));
  if (fits) return undefined;
  const days = fields.dayOfMonth.map(String);
  return `${days.length === 1 ? 'day' : 'days'} ${joinWords(days, 'or')} never ${days.length === 1 ? 'falls' : 'fall'} in ${joinWords(fields.month.map(monthWord), 'or')}`;
}

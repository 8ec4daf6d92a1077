import { describe, expect, it } from 'vitest';
import { CronExpressionError, decodeCronFields, encodeCronFields, parseCron, type CronFields } from '../src/cron/index.js';
import { InvalidArgumentError } from '../src/errors.js';

const range = (from: number, to: number, step = 1) => {
  const values: number[] = [];
  for (let value = from; value <= to; value += step) values.push(value);
  return values;
};

const fieldsOf = (expression: string): CronFields => parseCron(expression).fields;

describe('parseCron: what each field accepts', () => {
  it('reads five fields as minute hour day-of-month month day-of-week, with second 0', () => {
    expect(fieldsOf('30 2 * * *')).toEqual({
      second: [0], minute: [30], hour: [2], dayOfMonth: range(1, 31), month: range(1, 12), dayOfWeek: range(0, 6), dayRule: 'and',
    });
  });

  it('reads six fields with the seconds first', () => {
    const fields = fieldsOf('15 30 2 * * *');
    expect([fields.second, fields.minute, fields.hour]).toEqual([[15], [30], [2]]);
  });

  it('expands ranges, lists and the three kinds of step', () => {
    expect(fieldsOf('*/15 * * * *').minute).toEqual([0, 15, 30, 45]);
    expect(fieldsOf('1-30/5 * * * *').minute).toEqual([1, 6, 11, 16, 21, 26]);
    expect(fieldsOf('5/15 * * * *').minute).toEqual([5, 20, 35, 50]);
    expect(fieldsOf('0 1,3,5-7,22 * * *').hour).toEqual([1, 3, 5, 6, 7, 22]);
    expect(fieldsOf('0 0 */10 * *').dayOfMonth).toEqual([1, 11, 21, 31]);
    expect(fieldsOf('*/60 * * * *').minute).toEqual([0]);
    expect(fieldsOf('0,0,59,1-2 * * * *').minute).toEqual([0, 1, 2, 59]);
  });

  it('takes month and day names in any case, alone, in ranges and in lists', () => {
    expect(fieldsOf('0 0 * JAN,jul *').month).toEqual([1, 7]);
    expect(fieldsOf('0 0 * Mar-May *').month).toEqual([3, 4, 5]);
    expect(fieldsOf('0 9 * * mon-fri').dayOfWeek).toEqual([1, 2, 3, 4, 5]);
    expect(fieldsOf('0 9 * * SAT,sun').dayOfWeek).toEqual([0, 6]);
    expect(fieldsOf('0 9 * * 1-FRI').dayOfWeek).toEqual([1, 2, 3, 4, 5]);
  });

  it('reads 7 as Sunday, also at the end of a range, and a Sunday by name closes a range', () => {
    expect(fieldsOf('0 0 * * 7').dayOfWeek).toEqual([0]);
    expect(fieldsOf('0 0 * * 5-7').dayOfWeek).toEqual([0, 5, 6]);
    expect(fieldsOf('0 0 * * 0-7').dayOfWeek).toEqual(range(0, 6));
    expect(fieldsOf('0 0 * * FRI-SUN').dayOfWeek).toEqual([0, 5, 6]);
    expect(fieldsOf('0 0 * * */2').dayOfWeek).toEqual([0, 2, 4, 6]);
  });

  it('expands the shorthands, in any case', () => {
    const as = (expression: string) => fieldsOf(expression);
    expect(as('@yearly')).toEqual(as('0 0 1 1 *'));
    expect(as('@ANNUALLY')).toEqual(as('0 0 1 1 *'));
    expect(as('@monthly')).toEqual(as('0 0 1 * *'));
    expect(as('@weekly')).toEqual(as('0 0 * * 0'));
    expect(as('@daily')).toEqual(as('0 0 * * *'));
    expect(as('@midnight')).toEqual(as('0 0 * * *'));
    expect(as('@Hourly')).toEqual(as('0 * * * *'));
  });

  it('keeps the expression as given, without surrounding white space; tabs and runs of spaces separate fields', () => {
    const schedule = parseCron('  0\t9   * * 1-5 ');
    expect(schedule.expression).toBe('0\t9   * * 1-5');
    expect(schedule.fields.hour).toEqual([9]);
  });
});

describe('parseCron: day of month and day of week (Vixie cron rule)', () => {
  it('ORs them when both are restricted', () => {
    expect(fieldsOf('0 0 1,15 * MON').dayRule).toBe('or');
    expect(fieldsOf('0 0 1-31 * 1').dayRule).toBe('or');
  });

  it('lets the other field decide when one is written with a leading * or ?', () => {
    expect(fieldsOf('0 0 * * MON').dayRule).toBe('and');
    expect(fieldsOf('0 0 1 * *').dayRule).toBe('and');
    expect(fieldsOf('0 0 */2 * MON').dayRule).toBe('and');
    expect(fieldsOf('0 0 ? * MON').dayRule).toBe('and');
    expect(fieldsOf('0 0 1 * ?')).toEqual(fieldsOf('0 0 1 * *'));
  });
});

describe('parseCron: refusals say what is wrong and where', () => {
  const refusal = (expression: string): CronExpressionError => {
    try {
      parseCron(expression);
    } catch (error) {
      expect(error).toBeInstanceOf(CronExpressionError);
      expect(error).toBeInstanceOf(InvalidArgumentError);
      expect((error as CronExpressionError).code).toBe('INVALID_ARGUMENT');
      return error as CronExpressionError;
    }
    throw new Error(`"${expression}" was accepted`);
  };

  it.each([
    ['', 'Invalid cron expression "": it is empty'],
    ['   ', 'Invalid cron expression "": it is empty'],
    ['* * * *', 'Invalid cron expression "* * * *": it has 4 fields; expected 5 (minute hour day-of-month month day-of-week) or 6 (second minute hour day-of-month month day-of-week)'],
    ['0 0 0 * * * *', 'Invalid cron expression "0 0 0 * * * *": it has 7 fields; expected 5'],
    ['@reboot', 'Invalid cron expression "@reboot": @reboot has no meaning for a job queue; give a schedule'],
    ['@often', 'Invalid cron expression "@often": unknown shorthand "@often"; use @yearly, @annually, @monthly, @weekly, @daily, @midnight or @hourly'],
    ['60 * * * *', 'Invalid cron expression "60 * * * *": 1st field (minute) "60": 60 is out of range 0-59'],
    ['0 24 * * *', 'Invalid cron expression "0 24 * * *": 2nd field (hour) "24": 24 is out of range 0-23'],
    ['0 0 0 * *', 'Invalid cron expression "0 0 0 * *": 3rd field (day of month) "0": 0 is out of range 1-31'],
    ['0 0 * 13 *', 'Invalid cron expression "0 0 * 13 *": 4th field (month) "13": 13 is out of range 1-12'],
    ['0 0 * * 8', 'Invalid cron expression "0 0 * * 8": 5th field (day of week) "8": 8 is out of range 0-7'],
    ['61 0 0 * * *', 'Invalid cron expression "61 0 0 * * *": 1st field (second) "61": 61 is out of range 0-59'],
    ['0 61 0 * * *', 'Invalid cron expression "0 61 0 * * *": 2nd field (minute) "61": 61 is out of range 0-59'],
    ['0 5-2 * * *', 'Invalid cron expression "0 5-2 * * *": 2nd field (hour) "5-2": the range "5-2" runs backwards (5 is after 2)'],
    ['*/0 * * * *', 'Invalid cron expression "*/0 * * * *": 1st field (minute) "*/0": the step "0" must be a whole number from 1 to 60'],
    ['*/61 * * * *', 'the step "61" must be a whole number from 1 to 60'],
    ['0 */x * * *', '2nd field (hour) "*/x": the step "x" must be a whole number from 1 to 24'],
    ['0 0 * * */8', '5th field (day of week) "*/8": the step "8" must be a whole number from 1 to 7'],
    ['1/2/3 * * * *', '1st field (minute) "1/2/3": "1/2/3" has more than one "/"'],
    ['1-2-3 * * * *', '1st field (minute) "1-2-3": "1-2-3" is not a range (write it as start-end)'],
    ['1,,2 * * * *', '1st field (minute) "1,,2": a list has an empty item'],
    ['1, * * * *', 'Invalid cron expression "1, * * * *": 1st field (minute) "1,": a list has an empty item'],
    ['5- * * * *', '1st field (minute) "5-": a range or step is missing a number'],
    ['x * * * *', '1st field (minute) "x": "x" is not a number'],
    ['1.5 * * * *', '1st field (minute) "1.5": "1.5" is not a number'],
    ['-1 * * * *', '1st field (minute) "-1": a range or step is missing a number'],
    ['0 0 * JANUARY *', '4th field (month) "JANUARY": "JANUARY" is not a number or a name (JAN-DEC)'],
    ['0 0 * * MONDAY', '5th field (day of week) "MONDAY": "MONDAY" is not a number or a name (SUN-SAT)'],
    ['0 MON * * *', '2nd field (hour) "MON": "MON" is not a number'],
    ['? * * * *', '1st field (minute) "?": "?" is only allowed in the day-of-month and day-of-week fields'],
    ['0 0 L * *', '3rd field (day of month) "L": L, W and # are not supported'],
    ['0 0 15W * *', '3rd field (day of month) "15W": L, W and # are not supported'],
    ['0 0 * * 5#2', '5th field (day of week) "5#2": L, W and # are not supported'],
    ['0 0 31 2 *', 'Invalid cron expression "0 0 31 2 *": it never runs: day 31 never falls in February'],
    ['0 0 30,31 2 *', 'it never runs: days 30 or 31 never fall in February'],
    ['0 0 31 APR,jun,9,11 *', 'it never runs: day 31 never falls in April, June, September or November'],
    ['0 0 31 2 */2', 'it never runs: day 31 never falls in February'],
  ])('refuses %j', (expression, message) => {
    expect(refusal(expression).message).toContain(message);
  });

  it('names the field and its position as written', () => {
    const five = refusal('0 24 * * *');
    expect([five.field, five.position, five.expression]).toEqual(['hour', 2, '0 24 * * *']);
    const six = refusal('0 0 24 * * *');
    expect([six.field, six.position]).toEqual(['hour', 3]);
    const whole = refusal('0 0 31 2 *');
    expect([whole.field, whole.position]).toEqual([undefined, undefined]);
  });

  it('accepts day-and-month pairs that only exist in some years, and never-existing ones when day of week can match', () => {
    expect(fieldsOf('0 0 29 2 *').dayOfMonth).toEqual([29]);
    expect(fieldsOf('0 0 31 2 MON').dayRule).toBe('or');
    expect(fieldsOf('0 0 30,31 2,3 *').month).toEqual([2, 3]);
  });

  it('refuses a value that is not a string', () => {
    expect(() => parseCron(42 as unknown as string)).toThrow('Invalid cron expression "42": a cron expression must be a string');
  });
});

describe('encodeCronFields / decodeCronFields: the stored form', () => {
  it('is the day rule and one 0/1 character per value of each field', () => {
    const text = encodeCronFields(fieldsOf('15 30 2 1,31 DEC SUN,SAT'));
    const [rule, second, minute, hour, dayOfMonth, month, dayOfWeek] = text.split(' ');
    expect(rule).toBe('or');
    expect([second!.length, minute!.length, hour!.length, dayOfMonth!.length, month!.length, dayOfWeek!.length]).toEqual([60, 60, 24, 31, 12, 7]);
    expect(second!.indexOf('1')).toBe(15);
    expect(minute!.indexOf('1')).toBe(30);
    expect(hour).toBe(`001${'0'.repeat(21)}`);
    expect(dayOfMonth).toBe(`1${'0'.repeat(29)}1`);
    expect(month).toBe(`${'0'.repeat(11)}1`);
    expect(dayOfWeek).toBe('1000001');
  });

  it.each(['* * * * *', '*/7 1-5 */3 FEB-NOV 1-5', '0 0 1 * MON', '1,2,59 0 0 29 2 *', '@weekly'])('round-trips %j', (expression) => {
    const fields = fieldsOf(expression);
    expect(decodeCronFields(encodeCronFields(fields))).toEqual(fields);
  });

  it.each([
    '',
    'xor 1 1 1 1 1 1',
    `or ${'1'.repeat(59)} ${'1'.repeat(60)} ${'1'.repeat(24)} ${'1'.repeat(31)} ${'1'.repeat(12)} ${'1'.repeat(7)}`,
    `or ${'0'.repeat(60)} ${'1'.repeat(60)} ${'1'.repeat(24)} ${'1'.repeat(31)} ${'1'.repeat(12)} ${'1'.repeat(7)}`,
  ])('refuses a text not in that form: %j', (text) => {
    expect(() => decodeCronFields(text)).toThrow('not a stored cron schedule');
  });
});

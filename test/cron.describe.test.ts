import { describe, expect, it } from 'vitest';
import { describeCron, parseCron } from '../src/cron/index.js';

const words = (expression: string, zone?: string) => describeCron(parseCron(expression), zone);

describe('describeCron', () => {
  it('says the examples of the issue', () => {
    expect(words('30 2 * * *', 'Europe/Berlin')).toBe('at 02:30 every day (Europe/Berlin)');
    expect(words('*/15 * * * *')).toBe('every 15 minutes');
    expect(words('0 9 * * 1-5')).toBe('at 09:00 on Monday to Friday');
  });

  it('names the zone unless it is UTC (the default)', () => {
    expect(words('0 9 * * *')).toBe('at 09:00 every day');
    expect(words('0 9 * * *', 'UTC')).toBe('at 09:00 every day');
    expect(words('0 9 * * *', 'Asia/Kolkata')).toBe('at 09:00 every day (Asia/Kolkata)');
  });

  it.each([
    ['* * * * *', 'every minute'],
    ['@hourly', 'every hour'],
    ['@daily', 'at 00:00 every day'],
    ['@weekly', 'at 00:00 on Sunday'],
    ['@monthly', 'at 00:00 on day 1 of the month'],
    ['@yearly', 'at 00:00 on 1 January'],
    ['* * * * * *', 'every second'],
    ['*/10 * * * * *', 'every 10 seconds'],
    ['30 * * * * *', 'at second 30 of every minute'],
    ['15 30 9 * * *', 'at 09:30:15 every day'],
    ['0 9,17 * * *', 'at 09:00 and 17:00 every day'],
    ['0 0,6,12,18 * * *', 'at 00:00, 06:00, 12:00 and 18:00 every day'],
    ['0 */2 * * *', 'every 2 hours'],
    ['30 */2 * * *', 'every 2 hours at minute 30'],
    ['0 9-17 * * 1-5', 'every hour from 09:00 to 17:00 on Monday to Friday'],
    ['0 1,3,5,7,8 * * *', 'at minute 0 past hours 1, 3, 5, 7 and 8'],
    ['*/5 9-17 * * *', 'every 5 minutes from 09:00 to 17:55'],
    ['*/15 */2 * * *', 'every 15 minutes during every 2nd hour'],
    ['*/15 1,5 * * *', 'every 15 minutes during hours 1 and 5'],
    ['5,35 * * * *', 'at minutes 5 and 35 of every hour'],
    ['1-10 * * * *', 'at minutes 1 to 10 of every hour'],
    ['0 12 * * 0,6', 'at 12:00 on Saturday and Sunday'],
    ['0 0 * * 5-7', 'at 00:00 on Friday to Sunday'],
    ['0 9 * * 1,3,5', 'at 09:00 on Monday, Wednesday and Friday'],
    ['0 0 1 * MON', 'at 00:00 on day 1 of the month and on Monday'],
    ['0 0 1,15 * *', 'at 00:00 on days 1 and 15 of the month'],
    ['0 4 8-14 * *', 'at 04:00 on days 8 to 14 of the month'],
    ['0 0 */2 * *', 'at 00:00 on every 2nd day of the month'],
    ['0 0 */2 * MON', 'at 00:00 on every 2nd day of the month if it is a Monday'],
    ['0 0 1-5/2 * *', 'at 00:00 on every 2nd day from 1 to 5 of the month'],
    ['15 10 * 3-5 *', 'at 10:15 every day in March, April and May'],
    ['15 10 * 3-8 *', 'at 10:15 every day from March to August'],
    ['0 8 * JAN,JUL MON', 'at 08:00 on Monday in January and July'],
    ['0 0 29 2 */7', 'at 00:00 on day 29 of the month if it is a Sunday in February'],
  ])('%s → %s', (expression, expected) => {
    expect(words(expression)).toBe(expected);
  });

  it('takes the fields alone as well as a parsed schedule', () => {
    expect(describeCron(parseCron('0 9 * * 1-5').fields)).toBe('at 09:00 on Monday to Friday');
  });
});

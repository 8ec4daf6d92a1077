import { describe, expect, it } from 'vitest';
import { civilFromDays, daysFromCivil, daysInMonth, secondsOfWallTime, wallTimeOf, weekdayOfDays } from '../src/cron/calendar.js';

describe('calendar arithmetic (shared by the TypeScript matcher and, in Lua, by lua/cron.lua)', () => {
  it('agrees with Date on every day from 1899 to 2401, leap years and 2100 included', () => {
    const start = Date.UTC(1899, 0, 1) / 1000 / 86_400;
    const end = Date.UTC(2401, 0, 1) / 1000 / 86_400;
    for (let days = start; days < end; days++) {
      const date = new Date(days * 86_400_000);
      const civil = { year: date.getUTCFullYear(), month: date.getUTCMonth() + 1, day: date.getUTCDate() };
      if (civil.day === 1 || days % 97 === 0) {
        expect(civilFromDays(days)).toEqual(civil);
        expect(daysFromCivil(civil.year, civil.month, civil.day)).toBe(days);
        expect(weekdayOfDays(days)).toBe(date.getUTCDay());
      }
    }
  });

  it('knows the length of each month', () => {
    expect([2024, 2025, 2100, 2000].map((year) => daysInMonth(year, 2))).toEqual([29, 28, 28, 29]);
    expect([1, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12].map((month) => daysInMonth(2026, month))).toEqual([31, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]);
  });

  it('splits seconds into a wall time and back, before 1970 too', () => {
    for (const iso of ['2026-03-29T02:30:15Z', '1969-12-31T23:59:59Z', '2100-02-28T23:59:59Z', '2000-02-29T12:00:00Z']) {
      const seconds = Date.parse(iso) / 1000;
      const wall = wallTimeOf(seconds);
      const date = new Date(seconds * 1000);
      expect(wall).toEqual({
        year: date.getUTCFullYear(), month: date.getUTCMonth() + 1, day: date.getUTCDate(),
        hour: date.getUTCHours(), minute: date.getUTCMinutes(), second: date.getUTCSeconds(),
      });
      expect(secondsOfWallTime(wall)).toBe(seconds);
    }
  });
});

/**
 * English words shared by the describer, the parser's error messages and
 * the zone formatter: month and day names, ordinals, two-digit numbers, and
 * lists joined the way a sentence joins them.
 */

export const MONTH_WORDS = [
  'January', 'February', 'March', 'April', 'May', 'June',
  'July', 'August', 'September', 'October', 'November', 'December',
] as const;

export const DAY_WORDS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'] as const;

/** `a`, `a and b`, `a, b and c` (or with `or`). */
export function joinWords(items: readonly string[], last: 'and' | 'or' = 'and'): string {
  if (items.length <= 1) return items[0] ?? '';
  return `${items.slice(0, -1).join(', ')} ${last} ${items[items.length - 1]}`;
}

/** The name of a month 1–12. */
export function monthWord(month: number): string {
  return MONTH_WORDS[month - 1] ?? String(month);
}

/** The name of a weekday 0–6 (Sunday = 0). */
export function dayWord(weekday: number): string {
  return DAY_WORDS[weekday] ?? String(weekday);
}

/** `1st`, `2nd`, `3rd`, `4th`, `11th`, `22nd` … */
export function ordinal(n: number): string {
  const lastTwo = n % 100;
  if (lastTwo >= 11 && lastTwo <= 13) return `${n}th`;
  return `${n}${['th', 'st', 'nd', 'rd'][n % 10] ?? 'th'}`;
}

/** A number written with at least two digits, as clocks show it. */
export function twoDigits(n: number): string {
  return String(n).padStart(2, '0');
}

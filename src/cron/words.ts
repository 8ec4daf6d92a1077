/**
 * English words shared by the describer and the parser's error messages:
 * month and day names, and lists joined the way a sentence joins them.
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

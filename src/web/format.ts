/**
 * How numbers and times read on the dashboard. The core speaks seconds since
 * the epoch; pages show UTC (the core's stats days are UTC days too) plus a
 * relative "3 min ago" computed from the client's clock.
 */

function pad(n: number, width = 2): string {
  return String(n).padStart(width, '0');
}

/** `2024-05-01 13:04:05 UTC`, or `—` for a missing time. */
export function utc(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds <= 0) return '—';
  const d = new Date(seconds * 1000);
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} UTC`;
}

/** ISO 8601 for `<time datetime>`. */
export function iso(seconds: number): string {
  return Number.isFinite(seconds) && seconds > 0 ? new Date(seconds * 1000).toISOString() : '';
}

/** A span of seconds in the largest sensible unit: `850 ms`, `12.5 s`, `4 min`, `3.2 h`, `2 d`. */
export function duration(seconds: number): string {
  const s = Math.abs(seconds);
  if (!Number.isFinite(s)) return '—';
  if (s < 1) return `${Math.round(s * 1000)} ms`;
  if (s < 60) return `${trim(s)} s`;
  if (s < 3600) return `${trim(s / 60)} min`;
  if (s < 86400) return `${trim(s / 3600)} h`;
  return `${trim(s / 86400)} d`;
}

function trim(n: number): string {
  return n >= 10 ? String(Math.round(n)) : String(Math.round(n * 10) / 10);
}

/** `5 min ago` / `in 30 s`, relative to `now`. */
export function relative(seconds: number, now: number): string {
  if (!Number.isFinite(seconds) || seconds <= 0) return '';
  const delta = seconds - now;
  if (Math.abs(delta) < 1) return 'now';
  return delta < 0 ? `${duration(-delta)} ago` : `in ${duration(delta)}`;
}

/** A UTC day as `YYYY-MM-DD`. */
export function day(seconds: number): string {
  const d = new Date(seconds * 1000);
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
}

/** Noon (UTC) of a `YYYY-MM-DD` day in seconds, or `undefined` when the text is not such a day. */
export function parseDay(text: string | null): number | undefined {
  if (!text) return undefined;
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (!m) return undefined;
  const ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), 12);
  return Number.isFinite(ms) && day(ms / 1000) === text ? ms / 1000 : undefined;
}

/** Thousands separated by a thin space, so large counts stay readable. */
export function count(n: number): string {
  return Number.isInteger(n) ? n.toLocaleString('en-US').replace(/,/g, '\u202f') : String(n);
}

/** JSON pretty-printed for reading; text that is not JSON is shown as it is. */
export function prettyJson(text: string): string {
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}

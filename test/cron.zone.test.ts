import { describe, expect, it } from 'vitest';
import {
  checkTimeZone,
  decodeTransitions,
  encodeTransitions,
  formatInZone,
  REFRESH_MONTHS,
  TABLE_YEARS,
  tableNeedsRefresh,
  UnknownTimeZoneError,
  utcOffsetAt,
  zoneTable,
} from '../src/cron/index.js';
import { InvalidArgumentError } from '../src/errors.js';

const at = (iso: string) => Date.parse(iso) / 1000;
const NEW_YEAR_2026 = at('2026-01-01T00:00:00Z');
const DAY = 86_400;

/** The table's changes as readable `[ISO instant, offset]` pairs, without its first entry. */
function changes(zone: string, from: number, years: number) {
  return zoneTable(zone, from, years).transitions.slice(1).map(([start, offset]) => [new Date(start * 1000).toISOString(), offset]);
}

describe('checkTimeZone', () => {
  it.each(['UTC', 'Europe/Berlin', 'America/New_York', 'Australia/Lord_Howe', 'Asia/Kolkata', 'Pacific/Chatham', 'America/Sao_Paulo', 'Etc/GMT+5'])(
    'accepts %s as it is',
    (zone) => {
      expect(checkTimeZone(zone)).toBe(zone);
    },
  );

  it('returns the database spelling of a name that differs only in case, and keeps aliases as given', () => {
    expect(checkTimeZone('europe/berlin')).toBe('Europe/Berlin');
    expect(checkTimeZone('utc')).toBe('UTC');
    expect(checkTimeZone(' Europe/Berlin ')).toBe('Europe/Berlin');
    expect(checkTimeZone('US/Eastern')).toBe('US/Eastern');
  });

  it.each(['Mars/Olympus_Mons', 'Europe/Berln', '', '   ', 'local', '+01:00', '-0500', 'Z', '1/2'])('refuses %j', (zone) => {
    let refused: unknown;
    try {
      checkTimeZone(zone);
    } catch (error) {
      refused = error;
    }
    expect(refused).toBeInstanceOf(UnknownTimeZoneError);
    expect(refused).toBeInstanceOf(InvalidArgumentError);
    expect((refused as Error).message).toBe(`Unknown time zone "${zone.trim()}": give an IANA name such as "Europe/Berlin" or "UTC"`);
  });
});

describe('utcOffsetAt', () => {
  it('gives seconds east of UTC, to the second', () => {
    expect(utcOffsetAt('UTC', NEW_YEAR_2026)).toBe(0);
    expect(utcOffsetAt('Europe/Berlin', NEW_YEAR_2026)).toBe(3600);
    expect(utcOffsetAt('Europe/Berlin', at('2026-07-01T00:00:00Z'))).toBe(7200);
    expect(utcOffsetAt('America/New_York', NEW_YEAR_2026)).toBe(-18_000);
    expect(utcOffsetAt('Asia/Kolkata', NEW_YEAR_2026)).toBe(19_800);
    expect(utcOffsetAt('Pacific/Chatham', NEW_YEAR_2026)).toBe(49_500);
    // Liberia kept a -0:44:30 offset until 1972.
    expect(utcOffsetAt('Africa/Monrovia', at('1970-01-01T00:00:00Z'))).toBe(-2670);
  });

  it('changes exactly at the transition second', () => {
    const spring = at('2026-03-29T01:00:00Z');
    expect(utcOffsetAt('Europe/Berlin', spring - 1)).toBe(3600);
    expect(utcOffsetAt('Europe/Berlin', spring)).toBe(7200);
  });
});

describe('zoneTable', () => {
  it('finds each 2026 change of the zones with daylight saving time, to the second', () => {
    expect(changes('Europe/Berlin', NEW_YEAR_2026, 1)).toEqual([
      ['2026-03-29T01:00:00.000Z', 7200],
      ['2026-10-25T01:00:00.000Z', 3600],
    ]);
    expect(changes('America/New_York', NEW_YEAR_2026, 1)).toEqual([
      ['2026-03-08T07:00:00.000Z', -14_400],
      ['2026-11-01T06:00:00.000Z', -18_000],
    ]);
    // Lord Howe moves its clocks by 30 minutes.
    expect(changes('Australia/Lord_Howe', NEW_YEAR_2026, 1)).toEqual([
      ['2026-04-04T15:00:00.000Z', 37_800],
      ['2026-10-03T15:30:00.000Z', 39_600],
    ]);
    // Chatham: +13:45 in summer, +12:45 in winter.
    expect(changes('Pacific/Chatham', NEW_YEAR_2026, 1)).toEqual([
      ['2026-04-04T14:00:00.000Z', 45_900],
      ['2026-09-26T14:00:00.000Z', 49_500],
    ]);
  });

  it('is one entry for zones without changes', () => {
    for (const [zone, offset] of [['UTC', 0], ['Asia/Kolkata', 19_800], ['America/Sao_Paulo', -10_800]] as const) {
      const table = zoneTable(zone, NEW_YEAR_2026);
      expect(table.transitions).toEqual([[NEW_YEAR_2026 - 2 * DAY, offset]]);
    }
  });

  it(`covers ${TABLE_YEARS} years by default, starting two days before "from" so a recent change is known`, () => {
    const from = at('2026-10-26T12:34:56.789Z');
    const table = zoneTable('Europe/Berlin', from);
    expect(table.zone).toBe('Europe/Berlin');
    expect(table.from).toBe(Math.floor(from));
    expect(table.until - table.from).toBeCloseTo(TABLE_YEARS * 365.2425 * DAY, -1);
    expect(table.tzdata).toBe(process.versions.tz);
    // The first entry is the summer offset in force before the fall-back of the day before.
    expect(table.transitions[0]).toEqual([Math.floor(from) - 2 * DAY, 7200]);
    expect(table.transitions[1]).toEqual([at('2026-10-25T01:00:00Z'), 3600]);
    // That fall-back, two changes in each of the nine years after, and the
    // spring-forward of the tenth: its fall-back comes after `until`.
    expect(table.transitions).toHaveLength(1 + 2 * TABLE_YEARS);
    expect(table.transitions.at(-1)![0]).toBe(at('2036-03-30T01:00:00Z'));
    expect(table.until).toBeLessThan(at('2036-10-26T01:00:00Z'));
    const starts = table.transitions.map(([start]) => start);
    expect(starts).toEqual([...starts].sort((a, b) => a - b));
  });

  it('checks the zone', () => {
    expect(() => zoneTable('Nowhere/Special', NEW_YEAR_2026)).toThrow(UnknownTimeZoneError);
  });
});

describe('tableNeedsRefresh', () => {
  const table = zoneTable('Europe/Berlin', NEW_YEAR_2026);
  const month = (365.2425 / 12) * DAY;

  it(`is false while more than ${REFRESH_MONTHS} months remain, true after`, () => {
    expect(tableNeedsRefresh(table, NEW_YEAR_2026)).toBe(false);
    expect(tableNeedsRefresh(table, table.until - (REFRESH_MONTHS + 1) * month)).toBe(false);
    expect(tableNeedsRefresh(table, table.until - (REFRESH_MONTHS - 1) * month)).toBe(true);
    expect(tableNeedsRefresh(table, table.until + DAY)).toBe(true);
  });

  it('is true when this runtime has a newer time-zone database than the one that built the table', () => {
    const built = { until: table.until, tzdata: '2024a' };
    expect(tableNeedsRefresh(built, NEW_YEAR_2026, '2024b')).toBe(true);
    expect(tableNeedsRefresh(built, NEW_YEAR_2026, '2024a')).toBe(false);
    expect(tableNeedsRefresh(built, NEW_YEAR_2026, '2023c')).toBe(false);
    expect(tableNeedsRefresh({ until: table.until, tzdata: undefined }, NEW_YEAR_2026, '2025a')).toBe(false);
  });
});

describe('encodeTransitions / decodeTransitions', () => {
  it('stores the pairs as compact JSON and reads them back', () => {
    const { transitions } = zoneTable('Australia/Lord_Howe', NEW_YEAR_2026, 1);
    const text = encodeTransitions(transitions);
    expect(text).toBe(JSON.stringify(transitions));
    expect(text).not.toContain(' ');
    expect(decodeTransitions(text)).toEqual(transitions);
  });

  it.each(['[]', '{}', '[[1,2,3]]', '[[1,"x"]]', '[[5,0],[5,3600]]', '[[5,0],[4,3600]]', '[[1.5,0]]'])('refuses %s', (text) => {
    expect(() => decodeTransitions(text)).toThrow('not a time-zone transition table');
  });
});

describe('formatInZone', () => {
  it('writes local time with its offset', () => {
    const spring = at('2026-03-29T01:00:00Z');
    expect(formatInZone(spring - 1, 'Europe/Berlin')).toBe('2026-03-29T01:59:59+01:00');
    expect(formatInZone(spring, 'Europe/Berlin')).toBe('2026-03-29T03:00:00+02:00');
    expect(formatInZone(spring, 'UTC')).toBe('2026-03-29T01:00:00+00:00');
    expect(formatInZone(spring, 'America/New_York')).toBe('2026-03-28T21:00:00-04:00');
    expect(formatInZone(spring + 0.9, 'Pacific/Chatham')).toBe('2026-03-29T14:45:00+13:45');
    expect(formatInZone(at('1970-01-01T00:00:00Z'), 'Africa/Monrovia')).toBe('1969-12-31T23:15:30-00:44:30');
  });
});

import { describe, expect, it } from 'vitest';
import {
  compileCron,
  formatInZone,
  instantOfWallTime,
  nextOccurrence,
  nextRuns,
  nextWallTime,
  parseCron,
  utcOffsetAt,
  zoneTable,
  type CronFields,
  type Transition,
} from '../src/cron/index.js';
import { wallTimeOf, weekdayOfDays } from '../src/cron/calendar.js';

const at = (iso: string) => Date.parse(iso) / 1000;
const HOUR = 3600;
const DAY = 86_400;

/** Every run in [from, to), by stepping nextOccurrence. */
function runsBetween(fields: CronFields, transitions: readonly Transition[], from: number, to: number): number[] {
  const runs: number[] = [];
  for (let run = nextOccurrence(fields, transitions, from - 1); run !== null && run < to; run = nextOccurrence(fields, transitions, run)) {
    runs.push(run);
  }
  return runs;
}

/** Runs of `expression` in `zone` between two local dates, written in local time. */
function localRuns(expression: string, zone: string, fromIso: string, toIso: string): string[] {
  const from = at(fromIso);
  const table = zoneTable(zone, from - 10 * DAY);
  return runsBetween(parseCron(expression).fields, table.transitions, from, at(toIso)).map((run) => formatInZone(run, zone));
}

describe('the issue: a daily 02:30 job in Europe/Berlin across both changes of 2026', () => {
  it('runs once on 03-28, at 03:00 CEST on 03-29 (02:30 does not exist), and once on 03-30', () => {
    expect(localRuns('30 2 * * *', 'Europe/Berlin', '2026-03-27T12:00:00Z', '2026-03-30T12:00:00Z')).toEqual([
      '2026-03-28T02:30:00+01:00',
      '2026-03-29T03:00:00+02:00',
      '2026-03-30T02:30:00+02:00',
    ]);
  });

  it('runs once on 10-25, at the first of the two 02:30s', () => {
    expect(localRuns('30 2 * * *', 'Europe/Berlin', '2026-10-24T12:00:00Z', '2026-10-26T12:00:00Z')).toEqual([
      '2026-10-25T02:30:00+02:00',
      '2026-10-26T02:30:00+01:00',
    ]);
  });
});

describe('the issue: */15 over a day', () => {
  it('makes 96 runs in a UTC day', () => {
    const runs = localRuns('*/15 * * * *', 'UTC', '2026-03-29T00:00:00Z', '2026-03-30T00:00:00Z');
    expect(runs).toHaveLength(96);
    expect(runs[0]).toBe('2026-03-29T00:00:00+00:00');
    expect(runs[95]).toBe('2026-03-29T23:45:00+00:00');
  });

  it('makes 92 on the Berlin spring-forward day (02:00-02:45 collapse into 03:00) and 96 in its 25-hour fall-back day', () => {
    const spring = localRuns('*/15 * * * *', 'Europe/Berlin', '2026-03-28T23:00:00Z', '2026-03-29T22:00:00Z');
    expect(spring).toHaveLength(92);
    expect(spring.slice(7, 10)).toEqual(['2026-03-29T01:45:00+01:00', '2026-03-29T03:00:00+02:00', '2026-03-29T03:15:00+02:00']);
    const fall = localRuns('*/15 * * * *', 'Europe/Berlin', '2026-10-24T22:00:00Z', '2026-10-25T23:00:00Z');
    expect(fall).toHaveLength(96);
    expect(fall.slice(11, 13)).toEqual(['2026-10-25T02:45:00+02:00', '2026-10-25T03:00:00+01:00']);
  });
});

describe('nextOccurrence: DST rules in other zones', () => {
  it('Lord Howe (30-minute change): 02:15 on the spring-forward day runs at 02:30, and 01:45 runs once when 01:30-02:00 repeats', () => {
    expect(localRuns('15 2 * * *', 'Australia/Lord_Howe', '2026-10-02T00:00:00Z', '2026-10-05T00:00:00Z')).toEqual([
      '2026-10-03T02:15:00+10:30',
      '2026-10-04T02:30:00+11:00',
      '2026-10-05T02:15:00+11:00',
    ]);
    expect(localRuns('45 1 * * *', 'Australia/Lord_Howe', '2026-04-03T00:00:00Z', '2026-04-06T00:00:00Z')).toEqual([
      '2026-04-04T01:45:00+11:00',
      '2026-04-05T01:45:00+11:00',
      '2026-04-06T01:45:00+10:30',
    ]);
  });

  it('Chatham (02:45 springs to 03:45): 03:00 runs at 03:45', () => {
    expect(localRuns('0 3 * * *', 'Pacific/Chatham', '2026-09-26T00:00:00Z', '2026-09-28T00:00:00Z')).toEqual([
      '2026-09-27T03:45:00+13:45',
      '2026-09-28T03:00:00+13:45',
    ]);
  });

  it('New York: every minute of the skipped hour collapses into one run at 03:00', () => {
    const runs = localRuns('* 2 * * *', 'America/New_York', '2026-03-08T06:00:00Z', '2026-03-09T12:00:00Z');
    expect(runs).toEqual([
      '2026-03-08T03:00:00-04:00',
      ...Array.from({ length: 60 }, (_, m) => `2026-03-09T02:${String(m).padStart(2, '0')}:00-04:00`),
    ]);
  });

  it('a run exactly at the change instant is not repeated by the skipped times before it', () => {
    const { fields } = parseCron('0,30 2,3 * * *');
    const table = zoneTable('Europe/Berlin', at('2026-03-20T00:00:00Z'));
    const change = at('2026-03-29T01:00:00Z');
    expect(nextOccurrence(fields, table.transitions, change - 1)).toBe(change);
    expect(nextOccurrence(fields, table.transitions, change)).toBe(change + 30 * 60);
  });

  it('during the second pass of a repeated hour, the times of the first pass are over', () => {
    const { fields } = parseCron('*/20 * * * *');
    const table = zoneTable('Europe/Berlin', at('2026-10-20T00:00:00Z'));
    // 01:10 UTC is 02:10 CET, in the second 02:00-03:00.
    const runs = runsBetween(fields, table.transitions, at('2026-10-25T01:10:00Z'), at('2026-10-25T02:30:00Z'));
    expect(runs.map((run) => formatInZone(run, 'Europe/Berlin'))).toEqual(['2026-10-25T03:00:00+01:00', '2026-10-25T03:20:00+01:00']);
  });
});

describe('nextOccurrence: instants and table edges', () => {
  const daily = parseCron('30 2 * * *').fields;

  it('is strictly after a fractional or exact instant', () => {
    const transitions: Transition[] = [[0, 0]];
    const run = at('2026-01-01T02:30:00Z');
    expect(nextOccurrence(daily, transitions, run - 0.5)).toBe(run);
    expect(nextOccurrence(daily, transitions, run)).toBe(run + DAY);
    expect(nextOccurrence(daily, transitions, run + 0.999)).toBe(run + DAY);
  });

  it('uses the last offset past the end of the table and the first before its start', () => {
    const transitions: Transition[] = [[at('2030-01-01T00:00:00Z'), 3600], [at('2030-06-01T00:00:00Z'), 7200]];
    expect(nextOccurrence(daily, transitions, at('2040-01-01T00:00:00Z'))).toBe(at('2040-01-01T00:30:00Z'));
    expect(nextOccurrence(daily, transitions, at('2020-01-01T00:00:00Z'))).toBe(at('2020-01-01T01:30:00Z'));
  });

  it('crosses month, year and leap-day boundaries', () => {
    const utc: Transition[] = [[0, 0]];
    const next = (expression: string, iso: string) => {
      const run = nextOccurrence(parseCron(expression).fields, utc, at(iso));
      return run === null ? null : new Date(run * 1000).toISOString();
    };
    expect(next('0 0 1 * *', '2026-12-15T00:00:00Z')).toBe('2027-01-01T00:00:00.000Z');
    expect(next('59 23 31 12 *', '2026-12-31T23:59:00Z')).toBe('2027-12-31T23:59:00.000Z');
    expect(next('0 0 29 2 *', '2026-03-01T00:00:00Z')).toBe('2028-02-29T00:00:00.000Z');
    expect(next('0 0 29 2 *', '2096-03-01T00:00:00Z')).toBe('2104-02-29T00:00:00.000Z');
    expect(next('0 0 31 * *', '2026-04-01T00:00:00Z')).toBe('2026-05-31T00:00:00.000Z');
    expect(next('59 59 23 31 12 *', '2026-06-01T00:00:00Z')).toBe('2026-12-31T23:59:59.000Z');
    expect(next('0 0 1 * MON', '2026-05-26T00:00:00Z')).toBe('2026-06-01T00:00:00.000Z');
    // `and`: the 1st of a month that is a Monday (June 2026, then February 2027).
    expect(next('0 0 */31 * MON', '2026-06-02T00:00:00Z')).toBe('2027-02-01T00:00:00.000Z');
  });

  it('finds the rarest valid expression (February 29th on a Sunday) across 2100, and gives up on one that never runs', () => {
    const utc: Transition[] = [[0, 0]];
    const rare = nextOccurrence(parseCron('0 0 29 2 */7').fields, utc, at('2088-03-01T00:00:00Z'));
    expect(new Date(rare! * 1000).toISOString()).toBe('2128-02-29T00:00:00.000Z');
    // The parser refuses this one; the matcher still stops.
    const never: CronFields = { ...parseCron('0 0 28 2 *').fields, dayOfMonth: [31] };
    expect(nextOccurrence(never, utc, at('2026-01-01T00:00:00Z'))).toBeNull();
    expect(nextWallTime(never, at('2026-01-01T00:00:00Z'))).toBeNull();
  });
});

describe('instantOfWallTime', () => {
  const table = zoneTable('Europe/Berlin', at('2026-01-01T00:00:00Z')).transitions;
  const wall = (iso: string) => at(`${iso}Z`);

  it('maps a normal, a skipped and a repeated wall time', () => {
    expect(instantOfWallTime(table, wall('2026-03-29T01:59:59'))).toBe(at('2026-03-29T00:59:59Z'));
    expect(instantOfWallTime(table, wall('2026-03-29T02:00:00'))).toBe(at('2026-03-29T01:00:00Z'));
    expect(instantOfWallTime(table, wall('2026-03-29T02:59:59'))).toBe(at('2026-03-29T01:00:00Z'));
    expect(instantOfWallTime(table, wall('2026-03-29T03:00:00'))).toBe(at('2026-03-29T01:00:00Z'));
    expect(instantOfWallTime(table, wall('2026-10-25T02:30:00'))).toBe(at('2026-10-25T00:30:00Z'));
    expect(instantOfWallTime(table, wall('2026-10-25T03:00:00'))).toBe(at('2026-10-25T02:00:00Z'));
  });
});

/**
 * An independent oracle: walk a window minute by minute, read the local clock
 * with Intl (not the table), and mark the instants where a run is due by the
 * rules: a matching wall time runs the first time the clock shows it; when the
 * clock jumps forward, the instant after the jump runs if any skipped minute
 * (or the new reading) matches. Valid for expressions that run on whole minutes.
 */
function oracleRuns(fields: CronFields, zone: string, from: number, to: number, walls: Map<number, number>): number[] {
  const wallAt = (instant: number) => {
    let wall = walls.get(instant);
    if (wall === undefined) {
      wall = instant + utcOffsetAt(zone, instant);
      walls.set(instant, wall);
    }
    return wall;
  };
  const matches = (wall: number) => {
    const time = wallTimeOf(wall);
    const days = Math.floor(wall / DAY);
    const dom = fields.dayOfMonth.includes(time.day);
    const dow = fields.dayOfWeek.includes(weekdayOfDays(days));
    const dayOk = fields.dayRule === 'or' ? dom || dow : dom && dow;
    return dayOk && fields.month.includes(time.month) && fields.hour.includes(time.hour) && fields.minute.includes(time.minute) && fields.second.includes(time.second);
  };
  const runs: number[] = [];
  let latestWall = wallAt(from - 60);
  for (let instant = from; instant < to; instant += 60) {
    const wall = wallAt(instant);
    if (wall <= latestWall) continue; // the clock went back: this reading has been seen
    let due = false;
    for (let skipped = latestWall + 60; skipped <= wall && !due; skipped += 60) due = matches(skipped);
    if (due) runs.push(instant);
    latestWall = wall;
  }
  return runs;
}

describe('nextOccurrence agrees with a minute-by-minute oracle', () => {
  const zones = ['UTC', 'Europe/Berlin', 'America/New_York', 'Australia/Lord_Howe', 'Asia/Kolkata', 'Pacific/Chatham', 'America/Sao_Paulo'];
  const expressions = [
    '30 2 * * *', '0 2 * * *', '0 3 * * *', '59 1 * * *', '45 2 * * *', '*/15 * * * *', '*/7 * * * *', '0 * * * *',
    '30 1-3 * * *', '* 2 * * *', '0,30 2,3 * * *', '0 0 * * *', '0 9 * * 1-5', '45 2 * * 0', '15 0 1 * *',
    '0 0 1 1 *', '0 12 * * MON', '0 0 1 * MON', '5 4 */2 * *', '*/20 1-4 * * SUN', '0 0 1,15 * 6', '59 23 31 12 *',
  ];

  // A window of three days around each change of 2026 in each zone, and around the new year.
  const windows = (zone: string): Array<[number, number]> => {
    const table = zoneTable(zone, at('2026-01-01T00:00:00Z'), 1);
    const centres = [...table.transitions.slice(1).map(([start]) => start), at('2027-01-01T00:00:00Z')];
    return centres.map((centre) => [Math.floor(centre / 60) * 60 - 1.5 * DAY, Math.floor(centre / 60) * 60 + 1.5 * DAY]);
  };

  it.each(zones)('in %s', (zone) => {
    const table = zoneTable(zone, at('2025-12-01T00:00:00Z'), 2).transitions;
    const walls = new Map<number, number>();
    let compared = 0;
    for (const [from, to] of windows(zone)) {
      for (const expression of expressions) {
        const { fields } = parseCron(expression);
        const expected = oracleRuns(fields, zone, from, to, walls);
        expect(runsBetween(fields, table, from, to), `${expression} in ${zone} from ${new Date(from * 1000).toISOString()}`).toEqual(expected);
        // Asked from one second before, each run is still the next one (a
        // run at the instant of a change must not be lost to the jump).
        for (const run of expected) expect(nextOccurrence(fields, table, run - 1), `${expression} before ${run}`).toBe(run);
        compared += expected.length;
      }
    }
    expect(compared).toBeGreaterThan(1000);
  });
});

describe('compileCron and nextRuns', () => {
  it('checks both parts, and gives the stored texts and the next runs in the zone', () => {
    const now = at('2026-03-27T12:00:00Z');
    const cron = compileCron('30 2 * * *', 'europe/berlin', now);
    expect(cron.timeZone).toBe('Europe/Berlin');
    expect(cron.fieldsText.split(' ')).toHaveLength(7);
    expect(JSON.parse(cron.transitionsText)).toEqual(cron.table.transitions);
    expect(nextRuns(cron, { after: now }).map((run) => formatInZone(run, cron.timeZone))).toEqual([
      '2026-03-28T02:30:00+01:00',
      '2026-03-29T03:00:00+02:00',
      '2026-03-30T02:30:00+02:00',
    ]);
    expect(nextRuns(cron, { after: now, count: 5, table: cron.table })).toHaveLength(5);
    expect(() => compileCron('30 2 * *', 'UTC')).toThrow('Invalid cron expression "30 2 * *"');
    expect(() => compileCron('30 2 * * *', 'Europe/Berlinn')).toThrow('Unknown time zone "Europe/Berlinn"');
  });

  it('defaults to UTC', () => {
    const now = at('2026-01-01T00:00:00Z');
    const cron = compileCron('@hourly', undefined, now);
    expect(cron.timeZone).toBe('UTC');
    expect(nextRuns(cron, { after: now, count: 2 })).toEqual([now + HOUR, now + 2 * HOUR]);
  });
});

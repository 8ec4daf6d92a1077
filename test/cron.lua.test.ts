/**
 * lua/cron.lua, run by a private redis-server, against the TypeScript matcher
 * (src/cron/next.ts) for many expressions × zones × instants: around every
 * offset change of five years, around year ends, and at random.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { useRedis } from './support/redis.js';
import {
  encodeCronFields,
  encodeTransitions,
  formatInZone,
  nextOccurrence,
  parseCron,
  zoneTable,
  type CronFields,
  type Transition,
} from '../src/cron/index.js';

const ctx = useRedis();

// The matcher's file as the core includes it, plus a test entry:
// `next` answers each instant of a list, `chain` follows runs from one instant.
const MATCHER = readFileSync(fileURLToPath(new URL('../lua/cron.lua', import.meta.url)), 'utf8');
// The file defines one helper group, load_cron, that fills the core's
// helper table H; here H is a plain table and the group is loaded at once.
const SCRIPT = `local H = {}
${MATCHER}
load_cron()
local cron_next = H.cron_next
local fields = H.cron_decode_fields(ARGV[2])
if fields == nil then return 'invalid fields' end
local transitions = cjson.decode(ARGV[3])
local input = cjson.decode(ARGV[4])
local out = {}
if ARGV[1] == 'next' then
  for i, after in ipairs(input) do out[i] = cron_next(fields, transitions, after) or false end
else
  local after = input[1]
  for i = 1, input[2] do
    after = cron_next(fields, transitions, after)
    if after == nil then break end
    out[i] = after
  end
end
return cjson.encode(out)
`;

async function luaCall(mode: 'next' | 'chain', fieldsText: string, transitions: readonly Transition[], input: unknown): Promise<unknown> {
  const reply = await ctx.redis.eval(SCRIPT, 0, mode, fieldsText, encodeTransitions(transitions), JSON.stringify(input));
  return typeof reply === 'string' && reply.startsWith('[') ? JSON.parse(reply) : reply;
}

const luaNext = async (fields: CronFields, transitions: readonly Transition[], instants: number[]) =>
  (await luaCall('next', encodeCronFields(fields), transitions, instants)) as Array<number | false>;

const luaChain = async (fields: CronFields, transitions: readonly Transition[], after: number, count: number) =>
  (await luaCall('chain', encodeCronFields(fields), transitions, [after, count])) as number[];

const at = (iso: string) => Date.parse(iso) / 1000;
const HOUR = 3600;
const DAY = 86_400;

describe('lua/cron.lua: the issue cases', () => {
  it('a daily 02:30 in Europe/Berlin runs once on 03-28, at 03:00 CEST on 03-29, once on 03-30, and once on 10-25', async () => {
    const { fields } = parseCron('30 2 * * *');
    const table = zoneTable('Europe/Berlin', at('2026-03-01T00:00:00Z')).transitions;
    const spring = await luaChain(fields, table, at('2026-03-27T12:00:00Z'), 3);
    expect(spring.map((run) => formatInZone(run, 'Europe/Berlin'))).toEqual([
      '2026-03-28T02:30:00+01:00',
      '2026-03-29T03:00:00+02:00',
      '2026-03-30T02:30:00+02:00',
    ]);
    const fall = await luaChain(fields, table, at('2026-10-24T12:00:00Z'), 2);
    expect(fall.map((run) => formatInZone(run, 'Europe/Berlin'))).toEqual(['2026-10-25T02:30:00+02:00', '2026-10-26T02:30:00+01:00']);
  });

  it('*/15 makes 96 runs in a UTC day', async () => {
    const day = at('2026-06-01T00:00:00Z');
    const runs = await luaChain(parseCron('*/15 * * * *').fields, [[0, 0]], day - 1, 100);
    expect(runs.filter((run) => run < day + DAY)).toHaveLength(96);
    expect(runs[0]).toBe(day);
    expect(runs[95]).toBe(day + DAY - 15 * 60);
  });
});

// A small deterministic generator, so a failure can be replayed.
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

describe('lua/cron.lua agrees with the TypeScript matcher', () => {
  const zones = ['UTC', 'Europe/Berlin', 'America/New_York', 'Australia/Lord_Howe', 'Asia/Kolkata', 'Pacific/Chatham', 'America/Sao_Paulo'];
  const expressions = [
    '30 2 * * *', '0 2 * * *', '0 3 * * *', '59 1 * * *', '45 2 * * *', '15 2 * * *', '0 1 * * *',
    '*/15 * * * *', '*/7 * * * *', '* * * * *', '0 * * * *', '30 1-3 * * *', '* 2 * * *', '0,30 2,3 * * *',
    '0 9 * * 1-5', '45 2 * * 0', '0 0 1 * MON', '0 0 1,15 * 6', '5 4 */2 * *', '0 0 */31 * MON',
    '@yearly', '@monthly', '@weekly', '59 23 31 12 *', '0 0 29 2 *', '0 12 31 * *', '0 0 * FEB,AUG SUN',
    '*/10 * * * * *', '30 */5 2 * * *', '59 59 23 * * *', '0 0 0 29 2 */7', '15,45 30 1,2,3 * * 0,6',
  ];
  const startOfTables = at('2026-01-01T00:00:00Z');

  // Around each change: every 7 minutes and 13 seconds for three hours either
  // side, and the change itself give or take a second; around each year end;
  // and 150 random instants from 2026 to 2036.
  function instantsFor(transitions: readonly Transition[], seed: number): number[] {
    const instants: number[] = [];
    for (const [start] of transitions.slice(1)) {
      for (let t = start - 3 * HOUR; t <= start + 3 * HOUR; t += 7 * 60 + 13) instants.push(t);
      instants.push(start - 1, start - 0.5, start, start + 0.25, start + 1);
    }
    for (let year = 2026; year <= 2031; year++) {
      const newYear = Date.UTC(year, 0, 1) / 1000;
      for (let t = newYear - 15 * HOUR; t <= newYear + 15 * HOUR; t += 37 * 60 + 11) instants.push(t);
    }
    const next = random(seed);
    for (let i = 0; i < 150; i++) instants.push(Math.floor(startOfTables + next() * 10 * 365 * DAY) + (i % 3 === 0 ? 0.5 : 0));
    return instants;
  }

  it.each(zones)('in %s', async (zone) => {
    const table = zoneTable(zone, startOfTables, 5).transitions;
    const instants = instantsFor(table, zones.indexOf(zone) + 1);
    let compared = 0;
    for (const expression of expressions) {
      const { fields } = parseCron(expression);
      const expected = instants.map((instant) => nextOccurrence(fields, table, instant) ?? false);
      expect(await luaNext(fields, table, instants), `${expression} in ${zone}`).toEqual(expected);
      // And a run of 40 successive occurrences from the first change.
      const from = (table[1]?.[0] ?? startOfTables) - 2 * HOUR;
      const chain: number[] = [];
      for (let after: number | null = from; chain.length < 40; ) {
        after = nextOccurrence(fields, table, after);
        if (after === null) break;
        chain.push(after);
      }
      expect(await luaChain(fields, table, from, 40), `chain of ${expression} in ${zone}`).toEqual(chain);
      compared += expected.length + chain.length;
    }
    expect(compared).toBeGreaterThan(expressions.length * 400);
  });
});

describe('lua/cron.lua: edges', () => {
  it('uses the first offset before the table and the last one after it', async () => {
    const { fields } = parseCron('30 2 * * *');
    const table: Transition[] = [[at('2030-01-01T00:00:00Z'), 3600], [at('2030-06-01T00:00:00Z'), 7200]];
    const instants = [at('2020-01-01T00:00:00Z'), at('2040-01-01T00:00:00Z')];
    expect(await luaNext(fields, table, instants)).toEqual([at('2020-01-01T01:30:00Z'), at('2040-01-01T00:30:00Z')]);
  });

  it('gives up (nil) on fields that never match, after a bounded search', async () => {
    const never: CronFields = { ...parseCron('0 0 28 2 *').fields, dayOfMonth: [31] };
    const from = at('2026-01-01T00:00:00Z');
    expect(nextOccurrence(never, [[0, 0]], from)).toBeNull();
    expect(await luaNext(never, [[0, 0]], [from])).toEqual([false]);
  });

  it('finds February 29th on a Sunday 40 years on, across 2100', async () => {
    const { fields } = parseCron('0 0 29 2 */7');
    expect(await luaNext(fields, [[0, 0]], [at('2088-03-01T00:00:00Z')])).toEqual([at('2128-02-29T00:00:00Z')]);
  });

  it.each([
    '',
    'or',
    'xor 1 1 1 1 1 1',
    `or ${'1'.repeat(59)} ${'1'.repeat(60)} ${'1'.repeat(24)} ${'1'.repeat(31)} ${'1'.repeat(12)} ${'1'.repeat(7)}`,
    `and ${'1'.repeat(60)} ${'1'.repeat(60)} ${'1'.repeat(24)} ${'1'.repeat(31)} ${'1'.repeat(12)} ${'2'.repeat(7)}`,
  ])('refuses stored fields not in the encoded form: %j', async (text) => {
    expect(await luaCall('next', text, [[0, 0]], [0])).toBe('invalid fields');
  });
});

import { beforeEach, describe, expect, it } from 'vitest';
import { useRedis } from './support/redis.js';
import { useCoreAndEvents } from './support/core.js';
import { snapshot, writeJob, zsetWithScores } from './support/raw.js';

const ctx = useRedis();
const { core, events } = useCoreAndEvents(ctx);

const tagsOf = async (jid: string) => ctx.redis.hget(`ql:j:${jid}`, 'tags');
const counter = async (tag: string) => ctx.redis.zscore('ql:tags', tag);

describe('tag: command word', () => {
  it('requires a command', async () => {
    await expect(core.call(0, 'tag')).rejects.toThrow('Tag(): Arg "command" must be "add", "remove", "get" or "top"');
  });

  it('rejects unknown commands (case-sensitively) with the text that omits top', async () => {
    for (const word of ['ADD', 'Top', 'bogus', '']) {
      await expect(core.call(0, 'tag', word, 'jid', 'x')).rejects.toThrow(
        'Tag(): First argument must be "add", "remove" or "get"',
      );
    }
    expect(await snapshot(ctx.redis)).toEqual({});
  });
});

describe('tag add', () => {
  it('checks the jid, then the job (its tags field)', async () => {
    await expect(core.call(0, 'tag', 'add')).rejects.toThrow('Tag(): Arg "jid" missing');
    await expect(core.call(0, 'tag', 'add', 'nope', 'a')).rejects.toThrow('Tag(): Job nope does not exist');
    // A hash without a `tags` field does not count as a job here.
    await ctx.redis.hset('ql:j:bare', 'jid', 'bare');
    await expect(core.call(0, 'tag', 'add', 'bare', 'a')).rejects.toThrow('Tag(): Job bare does not exist');
    // A recurring template is not a job.
    await core.call(0, 'recur', 'q', 'tmpl', 'k', '{}', 'interval', 60, 0);
    const before = await snapshot(ctx.redis);
    await expect(core.call(0, 'tag', 'add', 'tmpl', 'a')).rejects.toThrow('Tag(): Job tmpl does not exist');
    expect(await snapshot(ctx.redis)).toEqual(before);
  });

  it('follows the spec example: tag 5 add jid foo foo foo', async () => {
    await writeJob(ctx.redis, 'jid');
    expect(await core.call(5, 'tag', 'add', 'jid', 'foo', 'foo', 'foo')).toBe('["foo"]');
    expect(await counter('foo')).toBe('3');
    expect(await zsetWithScores(ctx.redis, 'ql:t:foo')).toEqual([['jid', '5']]);
    expect(await tagsOf('jid')).toBe('["foo"]');
  });

  it('appends in order, refreshes the score and counts tags the job already has', async () => {
    await writeJob(ctx.redis, 'jid', { tags: ['a'], time: 1 });
    expect(await core.call(10, 'tag', 'add', 'jid', 'b', 'a', 'c', 'b')).toBe('["a","b","c"]');
    expect(await counter('a')).toBe('2');
    expect(await counter('b')).toBe('2');
    expect(await counter('c')).toBe('1');
    expect(await zsetWithScores(ctx.redis, 'ql:t:a')).toEqual([['jid', '10']]);
    expect(await zsetWithScores(ctx.redis, 'ql:t:b')).toEqual([['jid', '10']]);
    expect(await core.call(11.5, 'tag', 'add', 'jid', 'a')).toBe('["a","b","c"]');
    expect(await zsetWithScores(ctx.redis, 'ql:t:a')).toEqual([['jid', '11.5']]);
    expect(await counter('a')).toBe('3');
  });

  it('writes the list back even when unchanged and replies {} for an empty list', async () => {
    await writeJob(ctx.redis, 'jid', { fields: { tags: '[]' } });
    expect(await core.call(0, 'tag', 'add', 'jid')).toBe('{}');
    expect(await tagsOf('jid')).toBe('{}');
    expect(await ctx.redis.exists('ql:tags')).toBe(0);
  });

  it('works in any state and escapes like cjson', async () => {
    await writeJob(ctx.redis, 'done', { state: 'complete', queue: '' });
    expect(await core.call(0, 'tag', 'add', 'done', 'a/b', 'é')).toBe('["a\\/b","é"]');
    expect(JSON.parse((await tagsOf('done'))!)).toEqual(['a/b', 'é']);
    expect(await counter('a/b')).toBe('1');
  });

  it('keeps non-string tags already on the job', async () => {
    await writeJob(ctx.redis, 'jid', { fields: { tags: '[1,"x"]' } });
    expect(await core.call(0, 'tag', 'add', 'jid', '1', 'x')).toBe('[1,"x","1"]');
  });

  it('publishes nothing', async () => {
    await writeJob(ctx.redis, 'jid');
    await core.call(0, 'tag', 'add', 'jid', 'a');
    await core.call(0, 'tag', 'remove', 'jid', 'a');
    await core.call(0, 'tag', 'get', 'a');
    await core.call(0, 'tag', 'top');
    expect(await events.settle()).toEqual([]);
  });
});

describe('tag remove', () => {
  it('has the same two errors as add', async () => {
    await expect(core.call(0, 'tag', 'remove')).rejects.toThrow('Tag(): Arg "jid" missing');
    await expect(core.call(0, 'tag', 'remove', 'nope', 'a')).rejects.toThrow('Tag(): Job nope does not exist');
    expect(await snapshot(ctx.redis)).toEqual({});
  });

  it('removes every occurrence, keeps the order of the rest and decrements per argument', async () => {
    await writeJob(ctx.redis, 'jid', { tags: ['a', 'b', 'a', 'c'] });
    expect(await counter('a')).toBe('2');
    expect(await core.call(1, 'tag', 'remove', 'jid', 'a', 'nothere', 'a')).toBe('["b","c"]');
    expect(await tagsOf('jid')).toBe('["b","c"]');
    expect(await counter('a')).toBe('0');
    expect(await counter('nothere')).toBe('-1');
    expect(await ctx.redis.exists('ql:t:a')).toBe(0);
    expect(await core.call(1, 'tag', 'remove', 'jid', 'b', 'c')).toBe('{}');
    expect(await tagsOf('jid')).toBe('{}');
    // Counters stay, even at 0 or below.
    expect(await zsetWithScores(ctx.redis, 'ql:tags')).toEqual([
      ['nothere', '-1'],
      ['a', '0'],
      ['b', '0'],
      ['c', '0'],
    ]);
  });

  it('lets counters drift negative and keeps them negative', async () => {
    await writeJob(ctx.redis, 'jid');
    await core.call(0, 'tag', 'remove', 'jid', 'x', 'x', 'x');
    expect(await counter('x')).toBe('-3');
    await core.call(0, 'tag', 'add', 'jid', 'x');
    expect(await counter('x')).toBe('-2');
    expect(await core.json(0, 'tag', 'top', 0, -1)).toEqual({});
  });
});

describe('tag get', () => {
  beforeEach(async () => {
    await writeJob(ctx.redis, 'j1');
    await writeJob(ctx.redis, 'j2');
    await writeJob(ctx.redis, 'j3');
    await writeJob(ctx.redis, 'j0');
    await core.call(3, 'tag', 'add', 'j1', 't');
    await core.call(1, 'tag', 'add', 'j2', 't');
    await core.call(2, 'tag', 'add', 'j3', 't');
    await core.call(2, 'tag', 'add', 'j0', 't');
  });

  it('checks the tag and the numbers', async () => {
    await expect(core.call(0, 'tag', 'get')).rejects.toThrow('Tag(): Arg "tag" missing');
    await expect(core.call(0, 'tag', 'get', 't', 'x')).rejects.toThrow('Tag(): Arg "offset" not a number: x');
    await expect(core.call(0, 'tag', 'get', 't', '')).rejects.toThrow('Tag(): Arg "offset" not a number: ');
    await expect(core.call(0, 'tag', 'get', 't', 0, 'y')).rejects.toThrow('Tag(): Arg "count" not a number: y');
    await expect(core.call(0, 'tag', 'get', 't', 0.5)).rejects.toThrow('value is not an integer or out of range');
    await expect(core.call(0, 'tag', 'get', 't', 0, 1.5)).rejects.toThrow('value is not an integer or out of range');
  });

  it('lists oldest tagging first (ties by jid), with the whole total', async () => {
    expect(await core.json(0, 'tag', 'get', 't')).toEqual({ total: 4, jobs: ['j2', 'j0', 'j3', 'j1'] });
    expect(await core.json(0, 'tag', 'get', 't', 1, 2)).toEqual({ total: 4, jobs: ['j0', 'j3'] });
    expect(await core.json(0, 'tag', 'get', 't', '0x1', ' 2 ')).toEqual({ total: 4, jobs: ['j0', 'j3'] });
    expect(await core.json(0, 'tag', 'get', 't', 3, 25)).toEqual({ total: 4, jobs: ['j1'] });
  });

  it('passes the end index to Redis as is: count 0 at offset 0 is everything', async () => {
    expect(await core.json(0, 'tag', 'get', 't', 0, 0)).toEqual({ total: 4, jobs: ['j2', 'j0', 'j3', 'j1'] });
    expect(await core.call(0, 'tag', 'get', 't', 1, 0)).toMatch(/"jobs":\{\}/);
    expect(await core.json(0, 'tag', 'get', 't', -2)).toEqual({ total: 4, jobs: ['j3', 'j1'] });
    expect(await core.json(0, 'tag', 'get', 't', 0, -1)).toEqual({ total: 4, jobs: ['j2', 'j0', 'j3'] });
  });

  it('replies {"jobs":{},"total":0} for an unknown tag', async () => {
    const reply = (await core.call(0, 'tag', 'get', 'nope')) as string;
    expect(JSON.parse(reply)).toEqual({ jobs: {}, total: 0 });
    expect(reply).toMatch(/"jobs":\{\}/);
  });

  it('moves a re-tagged job to the end', async () => {
    await core.call(9, 'tag', 'add', 'j2', 't');
    expect(await core.json(0, 'tag', 'get', 't')).toEqual({ total: 4, jobs: ['j0', 'j3', 'j1', 'j2'] });
  });
});

describe('tag top', () => {
  it('checks the numbers', async () => {
    await expect(core.call(0, 'tag', 'top', 'x')).rejects.toThrow('Tag(): Arg "offset" not a number: x');
    await expect(core.call(0, 'tag', 'top', 0, 'y')).rejects.toThrow('Tag(): Arg "count" not a number: y');
    await expect(core.call(0, 'tag', 'top', 0.5)).rejects.toThrow('value is not an integer or out of range');
    await expect(core.call(0, 'tag', 'top', 0, 2.5)).rejects.toThrow('value is not an integer or out of range');
  });

  it('replies {} when empty', async () => {
    expect(await core.call(0, 'tag', 'top')).toBe('{}');
  });

  it('follows the spec example (ten jobs tagged 0..9, 1..9, ..., 9): tags with counter >= 2', async () => {
    for (let i = 0; i < 10; i++) {
      await writeJob(ctx.redis, `jid${i}`);
      const tags = Array.from({ length: 10 - i }, (_, k) => String(i + k));
      await core.call(0, 'tag', 'add', `jid${i}`, ...tags);
    }
    expect(await core.json(0, 'tag', 'top', 0, 20)).toEqual(['9', '8', '7', '6', '5', '4', '3', '2', '1']);
    expect(await core.json(0, 'tag', 'top')).toEqual(['9', '8', '7', '6', '5', '4', '3', '2', '1']);
  });

  it('orders ties in reverse byte order and paginates with LIMIT', async () => {
    await ctx.redis.zadd('ql:tags', 2, 'a', 2, 'c', 2, 'b', 5, 'z', 1, 'one', 0, 'zero', -4, 'neg', 2.5, 'half');
    expect(await core.json(0, 'tag', 'top')).toEqual(['z', 'half', 'c', 'b', 'a']);
    expect(await core.json(0, 'tag', 'top', 1, 2)).toEqual(['half', 'c']);
    expect(await core.call(0, 'tag', 'top', 0, 0)).toBe('{}');
    expect(await core.json(0, 'tag', 'top', 2, -1)).toEqual(['c', 'b', 'a']);
    expect(await core.call(0, 'tag', 'top', -1, 3)).toBe('{}');
    expect(await core.call(0, 'tag', 'top', 5)).toBe('{}');
  });

  it('paginates a long list with the default page of 25', async () => {
    const args: Array<string | number> = [];
    for (let i = 0; i < 40; i++) args.push(100 + i, `t${String(i).padStart(2, '0')}`);
    await ctx.redis.zadd('ql:tags', ...args);
    const first = await core.json<string[]>(0, 'tag', 'top');
    expect(first).toHaveLength(25);
    expect(first[0]).toBe('t39');
    expect(await core.json<string[]>(0, 'tag', 'top', 25)).toHaveLength(15);
  });
});


describe('tags and job commands', () => {
  it('put indexes tags, a re-put moves the job to the end, cancel decrements', async () => {
    await core.call(1, 'put', 'w', 'q', 'a', 'k', '{}', 0, 'tags', '["t","u"]');
    await core.call(2, 'put', 'w', 'q', 'b', 'k', '{}', 0, 'tags', '["t"]');
    expect(await core.json(0, 'tag', 'get', 't')).toEqual({ total: 2, jobs: ['a', 'b'] });
    await core.call(3, 'put', 'w', 'q', 'a', 'k', '{}', 0);
    expect(await core.json(0, 'tag', 'get', 't')).toEqual({ total: 2, jobs: ['b', 'a'] });
    expect(await counter('t')).toBe('2');
    expect(await core.json(0, 'tag', 'top')).toEqual(['t']);
    await core.call(4, 'tag', 'add', 'b', 'v');
    expect(JSON.parse((await core.call(4, 'get', 'b')) as string).tags).toEqual(['t', 'v']);
    await core.call(5, 'cancel', 'a');
    expect(await counter('t')).toBe('1');
    expect(await counter('u')).toBe('0');
    expect(await core.json(0, 'tag', 'get', 't')).toEqual({ total: 1, jobs: ['b'] });
  });

  it('reproduces the top example with real puts', async () => {
    for (let i = 0; i < 10; i++) {
      const tags = Array.from({ length: 10 - i }, (_, k) => String(i + k));
      await core.call(0, 'put', 'w', 'q', `jid${i}`, 'k', '{}', 0, 'tags', JSON.stringify(tags));
    }
    expect(await core.json(0, 'tag', 'top', 0, 20)).toEqual(['9', '8', '7', '6', '5', '4', '3', '2', '1']);
  });
});

/**
 * `throttles` (list), `throttles set|delete`, and `rate-limit <queue>`:
 * the limits on how many jobs run at once (named throttles shared across
 * queues, and each queue's own) and on how many of a queue's jobs start
 * per window of seconds.
 */
import { InvalidArgumentError as BadValue, type Command } from 'commander';
import { action } from '../context.js';
import { firstLine, table } from '../format.js';
import * as parse from '../parse.js';
import { readRateLimit, type RateLimit, type ThrottleSummary } from '../../../throttles.js';

/** `<limit>/<seconds>` (`5/1`, `100/60`), or `off`; anything else is a usage error. */
export function rateLimit(text: string): RateLimit | 'off' {
  const read = readRateLimit(text);
  if (typeof read === 'object' && 'problem' in read) throw new BadValue(`${read.problem}.`);
  return read;
}

function describeMaximum(maximum: number): string {
  return maximum > 0 ? String(maximum) : 'none';
}

function describeTtl(ttl: number): string {
  return ttl >= 0 ? `${ttl}s` : '-';
}

function jids(list: readonly string[]): string {
  return list.length === 0 ? '-' : firstLine(list.join(', '), 50);
}

function listing(throttles: readonly ThrottleSummary[]): string[] {
  if (throttles.length === 0) return ['no throttles'];
  return table(
    ['throttle', 'maximum', 'expires in', 'running', 'waiting', 'holders', 'parked'],
    throttles.map((t) => [t.id, describeMaximum(t.maximum), describeTtl(t.ttl), String(t.locks.length), String(t.pending.length), jids(t.locks), jids(t.pending)]),
    ['left', 'right', 'right', 'right', 'right'],
  );
}

export function register(program: Command): void {
  const throttles = program
    .command('throttles')
    .description('limits on how many jobs run at once: list them (the default), set or delete one')
    .addHelpText(
      'after',
      '\nA job names the throttles it needs when it is put (e.g. the library\'s { throttles: [\'stripe-api\'] });\n' +
        'a queue\'s own limit is the throttle ql:q:<queue>. A maximum of 0 means no limit.',
    );

  throttles
    .command('list', { isDefault: true })
    .description('every throttle with a limit, holders or parked jobs')
    .action(
      action(async (ctx) => {
        const client = await ctx.client();
        const all = await client.throttles.list();
        ctx.emit(all, () => listing(all));
      }),
    );

  throttles
    .command('set')
    .description('let at most <maximum> jobs that need the throttle run at once (0: no limit)')
    .argument('<name>', 'the throttle')
    .argument('<maximum>', 'jobs at once, 0 for no limit', parse.count)
    .option('--expiration <seconds>', 'drop the limit after this many seconds', parse.positive)
    .action(
      action(async (ctx, opts: { expiration?: number }, name: string, maximum: number) => {
        const client = await ctx.client();
        await client.throttles.set(name, maximum, opts.expiration === undefined ? {} : { expiration: opts.expiration });
        const now = await client.throttles.get(name);
        ctx.emit(now, () => [`${name}: at most ${describeMaximum(now.maximum)} at once${now.ttl >= 0 ? `, for ${now.ttl}s` : ''}`]);
      }),
    );

  throttles
    .command('delete <name>')
    .description('remove the limit (jobs holding or waiting for it are kept; waiting ones may start)')
    .action(
      action(async (ctx, _opts: object, name: string) => {
        const client = await ctx.client();
        await client.throttles.delete(name);
        ctx.emit({ id: name, deleted: true }, () => [`${name}: no limit`]);
      }),
    );

  program
    .command('rate-limit')
    .description('show or change how many of a queue\'s jobs may start per window of seconds')
    .argument('<queue>', 'the queue')
    .argument('[limit]', '<limit>/<seconds> (5/1: five a second, 100/60: a hundred a minute), or off', rateLimit)
    .action(
      action(async (ctx, _opts: object, name: string, change?: ReturnType<typeof rateLimit>) => {
        const client = await ctx.client();
        const queue = client.queue(name);
        if (change === 'off') await queue.clearRateLimit();
        else if (change !== undefined) await queue.setRateLimit(change.limit, change.per);
        const now = await queue.rateLimit();
        ctx.emit({ queue: name, rateLimit: now }, () => [
          now === null ? `${name}: no rate limit` : `${name}: at most ${now.limit} job${now.limit === 1 ? '' : 's'} start${now.limit === 1 ? 's' : ''} per ${now.per}s`,
        ]);
      }),
    );
}

/**
 * `watch`: a live tail of what the core publishes, one line per event, until
 * Ctrl-C (exit 0). It listens to `ql:log` (every put, completion, failure,
 * cancel, lost lock and config change) and to the tracked-job channels
 * (`ql:popped`, `ql:completed`, … which carry only tracked jobs' jids).
 */
import type { Command } from 'commander';
import type { Client } from '../../../client.js';
import { TRACKED_EVENTS, type LogEvent } from '../../../events.js';
import { action, type Context } from '../context.js';
import { UnreachableError, UsageError } from '../exit.js';
import * as parse from '../parse.js';

type Fields = Record<string, string | false>;

function value(v: string | false): string {
  // Quote only what would break the key=value reading (spaces, quotes, newlines).
  return typeof v === 'string' && /^[^\s"=]*$/.test(v) && v !== '' ? v : JSON.stringify(v);
}

function print(ctx: Context, channel: string, event: string, details: Fields): void {
  const time = new Date().toISOString();
  if (ctx.json) {
    ctx.out(JSON.stringify({ time, channel, event, ...details }));
    return;
  }
  const pairs = Object.entries(details).map(([k, v]) => `${k}=${value(v)}`);
  ctx.out(`${time}  ${channel.padEnd(12)}  ${event.padEnd(12)}  ${pairs.join(' ')}`.trimEnd());
}

function logFields(event: LogEvent): Fields {
  const { event: _name, ...rest } = event;
  return rest as Fields;
}

/** `--queue`, `--event`, `--jid`, `--tag`: each repeatable; an event must match every kind given (any of its values). */
interface WatchFlags {
  queue?: string[];
  event?: string[];
  jid?: string[];
  tag?: string[];
}

const EVENT_NAMES = ['put', 'popped', 'completed', 'advanced', 'failed', 'canceled', 'lock_lost', 'stalled', 'track', 'untrack', 'config_set', 'config_unset'];

/** What a filter looks at in one event. */
interface Seen {
  event: string;
  jid: string | undefined;
  /** The queues the event names itself (`put`'s queue, `advanced`'s both ends). */
  queues: string[];
}

/**
 * The filter of the flags given, or undefined without any. An event that
 * names no queue (a failure, a tracked-job channel) is matched by its job's
 * current queue and tags, read when it arrives; one about no job (a config
 * change) never matches a queue, jid or tag filter.
 */
function filterOf(flags: WatchFlags, client: Client): ((seen: Seen) => Promise<boolean>) | undefined {
  const { queue, event, jid, tag } = flags;
  if (!queue && !event && !jid && !tag) return undefined;
  return async (seen) => {
    if (event && !event.includes(seen.event)) return false;
    if (jid && (seen.jid === undefined || !jid.includes(seen.jid))) return false;
    if (!queue && !tag) return true;
    if (seen.jid === undefined) return false;
    const needJob = tag !== undefined || (queue !== undefined && seen.queues.length === 0);
    const job = needJob ? await client.jobs.get(seen.jid).catch(() => null) : null;
    if (queue) {
      const queues = seen.queues.length > 0 ? seen.queues : job && job.queue ? [job.queue] : [];
      if (!queues.some((q) => queue.includes(q))) return false;
    }
    if (tag && !(job?.tags ?? []).some((t) => tag.includes(t))) return false;
    return true;
  };
}

function seenOfLog(event: LogEvent): Seen {
  const queues: string[] = [];
  if ('queue' in event && typeof event.queue === 'string') queues.push(event.queue);
  if (event.event === 'advanced') queues.push(event.to);
  return { event: event.event, jid: 'jid' in event ? event.jid : undefined, queues };
}

export function register(program: Command): void {
  program
    .command('watch')
    .description("live tail of the core's events (ql:log and the tracked-job channels), one line each, until Ctrl-C")
    .option('--queue <queue>', 'only events of jobs in this queue; repeat for several', parse.collect)
    .option('--event <event>', `only these events (${EVENT_NAMES.join(', ')}); repeat for several`, parse.collect)
    .option('--jid <jid>', 'only events of this job; repeat for several', parse.collect)
    .option('--tag <tag>', 'only events of jobs carrying this tag; repeat for several', parse.collect)
    .addHelpText('after', '\nFilters of different kinds must all match; values of one kind are alternatives:\n  qless-ts watch --queue emails --event failed --event lock_lost')
    .action(
      action(async (ctx, opts: WatchFlags) => {
        const unknown = (opts.event ?? []).filter((name) => !EVENT_NAMES.includes(name));
        if (unknown.length > 0) throw new UsageError(`--event ${unknown[0]} is not an event the core publishes; choose from ${EVENT_NAMES.join(', ')}`);
        const client = await ctx.client();
        const events = client.events;
        const filter = filterOf(opts, client);
        // Channels as the namespace names them (ql:log, or ql:{orders}:log).
        // Lookups for a filter are asynchronous: a chain keeps the lines in the order the events came.
        let chain: Promise<void> = Promise.resolve();
        const show = (seen: Seen, line: () => void): void => {
          if (filter === undefined) return line();
          chain = chain.then(async () => {
            if (await filter(seen)) line();
          });
        };
        events.on('log', (event) => show(seenOfLog(event), () => print(ctx, client.keys.channel('log'), event.event, logFields(event))));
        for (const name of TRACKED_EVENTS) events.on(name, (jid) => show({ event: name, jid, queues: [] }, () => print(ctx, client.keys.channel(name), name, { jid })));
        events.on('error', (error) => ctx.note(`warning: ${error.message}`));
        let lost: (() => void) | undefined;
        const stopped = new Promise<void>((resolve, reject) => {
          const stop = (): void => resolve();
          process.once('SIGINT', stop);
          process.once('SIGTERM', stop);
          lost = () => reject(new UnreachableError(`lost the connection to Redis at ${ctx.target.label}`));
          client.redis.once('end', lost);
        });
        // Marked handled now: a loss during listen() is reported by listen() itself.
        stopped.catch(() => undefined);
        try {
          await events.listen();
        } catch (error) {
          if (lost) client.redis.off('end', lost);
          throw error;
        }
        ctx.note(`watching ${ctx.target.label}: ${client.keys.channel('log')} and the tracked-job channels; Ctrl-C to stop`);
        try {
          await stopped;
        } finally {
          if (lost) client.redis.off('end', lost);
          await events.close();
        }
      }),
    );
}

/**
 * `watch`: a live tail of what the core publishes, one line per event, until
 * Ctrl-C (exit 0). It listens to `ql:log` (every put, completion, failure,
 * cancel, lost lock and config change) and to the tracked-job channels
 * (`ql:popped`, `ql:completed`, … which carry only tracked jobs' jids).
 */
import type { Command } from 'commander';
import { TRACKED_EVENTS, type LogEvent } from '../../../events.js';
import { action, type Context } from '../context.js';
import { UnreachableError } from '../exit.js';

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

export function register(program: Command): void {
  program
    .command('watch')
    .description("live tail of the core's events (ql:log and the tracked-job channels), one line each, until Ctrl-C")
    .action(
      action(async (ctx) => {
        const client = await ctx.client();
        const events = client.events;
        // Channels as the namespace names them (ql:log, or ql:{orders}:log).
        events.on('log', (event) => print(ctx, client.keys.channel('log'), event.event, logFields(event)));
        for (const name of TRACKED_EVENTS) events.on(name, (jid) => print(ctx, client.keys.channel(name), name, { jid }));
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

/**
 * The one ioredis command every core call goes out as (FCALL or EVALSHA of
 * many text arguments), built for what it is instead of through
 * `redis.call(name, argv)`.
 *
 * `redis.call` spreads its arguments into a rest array, looks for a
 * callback, makes an options object, and its Command copies the argument
 * list with `args.flat()`, which V8 runs element by element through the
 * runtime (about as costly as the rest of building the command). The
 * command made here takes the argument list the gateway built as it is.
 * Its reply comes back as ioredis's parser made it (Buffers) and is turned
 * into text in place, as `call` would have done (UTF-8, nested lists
 * alike) but without copying each list.
 *
 * Only used on a connection where `call` would have done no more than
 * that: a single Redis (a cluster routes by the command's key), without
 * auto-pipelining, a key prefix or friendly error stacks. Everything else
 * (offline queue, reconnection, command timeouts, ioredis's tracing
 * channel) is `sendCommand`'s, shared by both ways.
 */
import { Command, type Redis } from 'ioredis';
import type { RedisConnection } from '../gateway.js';

/** A reply of the core as ioredis's parser hands it over, before it is text. */
type RawReply = Buffer | number | null | Error | RawReply[];

/** Bulk strings as text, in place: the lists are the parser's own, seen by nobody else. */
function textOf(reply: RawReply): unknown {
  if (Array.isArray(reply)) {
    for (let i = 0; i < reply.length; i++) reply[i] = textOf(reply[i]!) as RawReply;
    return reply;
  }
  return reply instanceof Uint8Array ? reply.toString() : reply;
}

// What each command is made with (the Command constructor copies the list and only reads the options).
const NO_ARGS: readonly string[] = Object.freeze([]);
const NO_OPTIONS = Object.freeze({});

/** Sends the gateway's FCALL/EVALSHA argument lists on one connection. */
export type CoreSender = (name: 'fcall' | 'evalsha', args: string[]) => Promise<unknown>;

/**
 * How the gateway sends on `redis`: as a command made here where that is
 * what `call` would amount to, else through `call`.
 */
export function coreSender(redis: RedisConnection): CoreSender {
  const options = (redis as Redis).options;
  const direct =
    (redis as { isCluster?: boolean }).isCluster !== true &&
    typeof (redis as Redis).sendCommand === 'function' &&
    options !== undefined &&
    !options.enableAutoPipelining &&
    !options.keyPrefix &&
    !options.showFriendlyErrorStack;
  if (!direct) return (name, args) => redis.call(name, args);
  const single = redis as Redis;
  return (name, args) => {
    // Made without arguments, which are then given as the one list they
    // are sent as; with no reply encoding, its reply is made text here.
    // (Not a subclass of Command: V8 kept giving up optimizing the
    // subclass's constructor, at a cost of tens of µs per call.)
    const command = new Command(name, NO_ARGS as string[], NO_OPTIONS);
    command.args = args;
    const resolve = command.resolve;
    command.resolve = (reply) => resolve(textOf(reply as RawReply));
    return single.sendCommand(command) as Promise<unknown>;
  };
}

/**
 * Plain sentences for people (the CLI's stderr, the dashboard's pages) from
 * the errors the library raises. The error objects keep the core's own text
 * word for word (`scriptMessage`: other code matches it); only what is shown
 * is translated, here, in one table used by every surface.
 *
 * The table covers every refusal a `qless-ts` command or a dashboard action
 * can provoke from the core (the commands they call: put, requeue, cancel,
 * priority, tag, track, depends, recur.*, unfail, config.*), and the
 * connection failures of ioredis. Anything not in it is shown as it is.
 */
import { ConnectionError, QlessError, ScriptError } from './errors.js';

/** What a job in each state is doing, as the end of "job x is …". */
const STATE_WORDS: Readonly<Record<string, string>> = {
  waiting: 'waiting in its queue',
  scheduled: 'scheduled to run later',
  depends: 'waiting for other jobs to complete',
  running: 'running',
  stalled: 'stalled (its lock expired)',
  failed: 'failed',
  complete: 'complete',
  recur: 'a recurring job',
  throttled: 'waiting for a slot of a throttle it needs',
};

/** A job state in words: `depends` → "waiting for other jobs to complete". */
export function stateWords(state: string): string {
  return STATE_WORDS[state] ?? state;
}

type Translate = (match: RegExpExecArray) => string;

const GONE = 'it was canceled, or completed long enough ago to be forgotten';

/** The core's messages (as `ScriptError.scriptMessage` holds them) and what they mean. */
const CORE_MESSAGES: ReadonlyArray<readonly [RegExp, Translate]> = [
  [
    /^Cancel\(\): (.+) is a dependency of (.+) but is not mentioned to be canceled$/,
    (m) => `job ${m[1]} cannot be canceled on its own: job ${m[2]} depends on it. Cancel both together (or the dependent job first)`,
  ],
  [
    /^Depends\(\): Job (.+) not in the depends state: (.*)$/,
    (m) => `job ${m[1]} is ${stateWords(m[2]!)}, not waiting for other jobs, so there are no dependencies to change`,
  ],
  // Complete(), Retry(), Priority(), Requeue(), Tag(), Untag(), Unfail(), Log(), Timeout()…
  // (Fail() and Heartbeat() leave out the space before "does not exist").
  [/^\w+\(\): Job (\S+?) ?does not exist$/, (m) => `there is no job ${m[1]} (${GONE})`],
  [/^Track\(\): Job does not exist$/, () => `there is no such job to track (${GONE})`],
  [/^Recur\(\): No recurring job (.+)$/, (m) => `there is no recurring job ${m[1]} (it was canceled, or never existed)`],
  [/^Recur\(\): Unrecognized option "(.+)"$/, (m) => `a recurring job has no field "${m[1]}" to update`],
  [/^\w+\(\): Job (\S+?) ?(?:is )?not (?:currently )?running(?:: (.*))?$/, (m) => `job ${m[1]} is ${m[2] ? stateWords(m[2]) : 'not running'}, and only a running job can do that`],
  [
    /^\w+\(\): Job (\S+) (?:has been handed out|has been given|given out|running with) (?:to )?another worker: (.*)$/,
    (m) => `job ${m[1]} is held by another worker now (${m[2]})`,
  ],
  [/^\w+\(\): Job (\S+) running in another queue: (.*)$/, (m) => `job ${m[1]} has moved to queue ${m[2]}`],
  // Arguments the core refused as numbers (the client checks most first).
  [/^\w+\(\): Arg "([^"]+)"(?: for "([^"]+)")? (?:missing or )?not a (?:whole )?number:? ?(.*)$/, (m) => `${m[2] ?? m[1]} must be a number${m[3] ? `, got ${m[3]}` : ''}`],
  [/-(?:history|dependents|dependencies)\b.*\bjid\b|\bjid\b.*"-(?:history|dependents|dependencies)"/i, () => 'that jid ends in -history, -dependents or -dependencies, which qless keeps for its own keys; choose another jid'],
  [/^\w+\(\): Arg "([^"]+)" value is not an integer or out of range: (.*)$/, (m) => `${m[1]} must be a whole number, got ${m[2]}`],
  [/^\w+\(\): Arg "([^"]+)" must be a non-negative integer: (.*)$/, (m) => `${m[1]} must be a whole number of at least 0, got ${m[2]}`],
  [
    /^\w+\(\): Job (\S+) may not depend on (\S+), which waits for it$/,
    (m) => `job ${m[1]} cannot wait for job ${m[2]}: ${m[2]} already waits for ${m[1]} (directly or through other jobs), so neither could ever run`,
  ],
  [/reserved suffix/, () => 'that jid ends in -history, -dependents or -dependencies, which qless keeps for its own keys; choose another jid'],
  [/\bcycle\b|depend on itself|depends on itself/i, () => 'that dependency would make jobs wait for each other in a circle, so none of them could ever run'],
  // A numeric option stored as text by some client (before the core learnt to ignore such values).
  [
    /attempt to (?:perform arithmetic on|compare) .*(?:string|nil)/,
    () => 'a numeric setting of the core holds something that is not a number (look for a value such as "60s" in `qless-ts config`, then set it to a number or unset it)',
  ],
  [/^Throttle\(\): no tid provided$/, () => 'a throttle needs a name'],
  [/^Throttle\(\): Arg "maximum" must be a whole number of at least 0: (.*)$/, (m) => `a throttle's maximum must be a whole number of at least 0 (0: no limit), got ${m[1]}`],
  [/^Throttle\(\): Arg "expiration" not a number: (.*)$/, (m) => `a throttle's expiration must be a number of seconds, got ${m[1]}`],
  [/^\w+\(\): Arg "throttles" not JSON: (.*)$/, (m) => `throttles must be a list of throttle names, got ${m[1]}`],
  [/^WRONGTYPE/, () => 'Redis holds a key of this job with an unexpected type (a jid ending in -history, -dependents or -dependencies collides with another job\'s keys)'],
];

/**
 * Redis's own refusals of a call (the server's state, not the core's
 * verdict): the first word of the reply names the reason, the rest is
 * written for Redis operators. Said here in terms of what to do next.
 */
const REDIS_REFUSALS: ReadonlyArray<readonly [RegExp, Translate]> = [
  [/^OOM\b/, () => 'Redis is out of memory (it has reached its maxmemory setting) and refuses writes: free some memory or raise maxmemory, then try again'],
  [/^LOADING\b/, () => 'Redis is still loading its data after a restart: try again in a moment'],
  [/^BUSY\b/, () => 'Redis is busy running a long script or function and answers nothing else until it ends (or is stopped with FUNCTION KILL or SCRIPT KILL)'],
  [/^READONLY\b/, () => 'this Redis is a read-only replica: point qless-ts at the primary (or at Sentinel, which finds it)'],
  [/^MASTERDOWN\b/, () => 'this Redis replica has lost its primary and will not serve possibly stale data: point qless-ts at the primary'],
  [/^MISCONF\b/, () => 'Redis cannot save its data to disk and refuses writes until it can (its log says why)'],
  [/^NOREPLICAS\b/, () => 'Redis refuses writes: fewer replicas are connected than its min-replicas-to-write setting asks for'],
  [/^CLUSTERDOWN\b/, () => 'the Redis Cluster is down (a primary failed and no replica has taken its place yet, or a slot has no node): try again once it has recovered'],
  [/^(?:MOVED|ASK|TRYAGAIN)\b/, () => 'the Redis Cluster was moving the keys of this call while it was made: try again'],
];

// What ioredis and node say when the server is out of reach, in their words.
const NETWORK_PROBLEM =
  /ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|ENOTFOUND|EAI_AGAIN|EPIPE|Connection is closed|Stream isn't writeable|max retries per request|Command timed out|connect ETIMEDOUT|Socket closed unexpectedly/i;

/** Whether an error means Redis could not be reached (or went away mid-call). */
export function isConnectionProblem(error: unknown): boolean {
  if (error instanceof ConnectionError) return true;
  if (error instanceof QlessError) return false;
  return error instanceof Error && (error.name === 'MaxRetriesPerRequestError' || NETWORK_PROBLEM.test(error.message));
}

/**
 * The plain sentence for one of the core's messages (or one of Redis's
 * refusals of a call), or `undefined` when the tables have none.
 */
export function translateCoreMessage(message: string): string | undefined {
  for (const table of [CORE_MESSAGES, REDIS_REFUSALS]) {
    for (const [pattern, translate] of table) {
      const match = pattern.exec(message);
      if (match) return translate(match);
    }
  }
  return undefined;
}

/**
 * What to tell a person about `error`. `redis` names the server (`host:port`)
 * for connection failures. Sentences start lower-case: callers put them
 * after "error: " or capitalise them ({@link sentence}).
 */
export function plainMessage(error: unknown, redis?: string): string {
  if (isConnectionProblem(error)) return `Redis ${redis === undefined ? '' : `at ${redis} `}is not answering`;
  if (error instanceof ScriptError) return translateCoreMessage(error.scriptMessage) ?? error.message;
  // The library's own messages are written for people already.
  if (error instanceof QlessError) return error.message;
  // Redis's own replies to direct commands (WRONGTYPE…).
  if (error instanceof Error) return translateCoreMessage(error.message) ?? error.message;
  return String(error);
}

/** A message as a sentence on its own: capitalised, ending with a full stop. */
export function sentence(text: string): string {
  const capital = text.charAt(0).toUpperCase() + text.slice(1);
  return /[.!?]$/.test(capital) ? capital : `${capital}.`;
}

/**
 * `put --file`: bulk loading jobs from newline-delimited JSON.
 *
 * One job per line:
 *
 *     {"queue": "underpants", "klass": "gnomes.GnomesJob", "data": {"n": 1},
 *      "options": {"priority": 10, "tags": ["a"], "delay": 0, "retries": 3, "depends": ["jid-a"], "jid": "jid-b"}}
 *
 * `queue` and `klass` are required, `data` (a JSON object, default `{}`) and
 * `options` (every option of put, each optional) are not; any other field is
 * refused so a typo does not silently lose an option. Blank lines are skipped.
 *
 * The whole file is validated before the first write: a bad line is reported
 * with its number and nothing at all is written. Jids are settled during
 * validation too (a random one for lines without), so a line may depend on a
 * job put by an earlier line; depending on a later line is refused, because
 * the core treats a dependency that does not exist yet as already satisfied.
 */
import * as args from '../../args.js';
import { encodeObject, checkStrings } from '../../json.js';
import { newJid, type PutOptions } from '../../queue.js';
import type { Client } from '../../client.js';
import type { JsonObject } from '../../types.js';
import { CliError, exitCodeOf, messageOf, UsageError } from './exit.js';
import type { Progress } from './progress.js';

/** One validated line, ready to put. */
export interface BulkJob {
  /** 1-based line number in the file. */
  line: number;
  queue: string;
  klass: string;
  data: JsonObject;
  options: PutOptions & { jid: string };
}

const FIELDS = new Set(['queue', 'klass', 'data', 'options']);
const OPTIONS = new Set(['priority', 'tags', 'delay', 'retries', 'depends', 'throttles', 'jid']);

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function validateLine(value: unknown): Omit<BulkJob, 'line'> {
  if (!isObject(value)) throw new Error('a line must be a JSON object with "queue" and "klass"');
  for (const key of Object.keys(value)) {
    if (!FIELDS.has(key)) throw new Error(`unknown field "${key}" (expected queue, klass, data, options)`);
  }
  const queue = args.name(value['queue'], 'queue');
  const klass = args.name(value['klass'], 'klass');
  const data = value['data'] === undefined ? {} : value['data'];
  encodeObject(data, 'data');
  const raw = value['options'] === undefined ? {} : value['options'];
  if (!isObject(raw)) throw new Error('options must be a JSON object');
  for (const key of Object.keys(raw)) {
    if (!OPTIONS.has(key)) throw new Error(`unknown option "${key}" (expected ${[...OPTIONS].join(', ')})`);
  }
  const options: PutOptions & { jid: string } = { jid: raw['jid'] === undefined ? newJid() : args.jid(raw['jid'], 'options.jid') };
  if (raw['priority'] !== undefined) options.priority = args.finite(raw['priority'], 'options.priority');
  if (raw['delay'] !== undefined) options.delay = args.finite(raw['delay'], 'options.delay');
  if (raw['retries'] !== undefined) options.retries = args.integer(raw['retries'], 'options.retries');
  if (raw['tags'] !== undefined) options.tags = checkStrings(raw['tags'] as unknown[], 'options.tags');
  if (raw['depends'] !== undefined) options.depends = checkStrings(raw['depends'] as unknown[], 'options.depends');
  if (raw['throttles'] !== undefined) options.throttles = checkStrings(raw['throttles'] as unknown[], 'options.throttles');
  return { queue, klass, data: data as JsonObject, options };
}

/**
 * Parse and validate a whole ndjson text. Throws a UsageError naming
 * `source:line` for the first bad line; returns the jobs otherwise.
 */
export function parseJobs(text: string, source: string): BulkJob[] {
  // A byte-order mark (some editors write one) is not part of the first line's JSON.
  const lines = text.replace(/^\uFEFF/, '').split('\n');
  const jobs: BulkJob[] = [];
  const lineOfJid = new Map<string, number>();
  const fail = (line: number, message: string): never => {
    throw new UsageError(`${source}:${line}: ${message}; nothing was written`);
  };
  // First pass: every line on its own, and where each jid is defined.
  lines.forEach((rawLine, i) => {
    const line = i + 1;
    const content = rawLine.replace(/\r$/, '');
    if (content.trim() === '') return;
    let value: unknown;
    try {
      value = JSON.parse(content);
    } catch (error) {
      fail(line, `not JSON (${(error as Error).message})`);
    }
    let job: Omit<BulkJob, 'line'>;
    try {
      job = validateLine(value);
    } catch (error) {
      return fail(line, (error as Error).message);
    }
    const earlier = lineOfJid.get(job.options.jid);
    if (earlier !== undefined) fail(line, `jid ${job.options.jid} was already given on line ${earlier}`);
    lineOfJid.set(job.options.jid, line);
    jobs.push({ line, ...job });
  });
  // Second pass: dependencies on jobs of this file must point backwards.
  for (const job of jobs) {
    for (const dependency of job.options.depends ?? []) {
      const defined = lineOfJid.get(dependency);
      if (defined !== undefined && defined >= job.line) {
        const where = defined === job.line ? 'itself' : `line ${defined}, which comes later`;
        fail(job.line, `depends on ${dependency}, put by ${where}; put dependencies first`);
      }
    }
  }
  return jobs;
}

/** How many puts are in flight at once (one pipeline on the connection). */
export const WINDOW = 1000;

/**
 * Put the jobs in file order, {@link WINDOW} at a time: each window is sent
 * as one pipeline and awaited before the next, so progress is exact and a
 * failure (only infrastructure can fail now: everything was validated) stops
 * the load at a known point. Returns the jids.
 */
export async function putJobs(client: Client, jobs: readonly BulkJob[], progress: Progress): Promise<string[]> {
  const jids: string[] = [];
  for (let start = 0; start < jobs.length; start += WINDOW) {
    const window = jobs.slice(start, start + WINDOW);
    const results = await Promise.allSettled(window.map((job) => client.queue(job.queue).put(job.klass, job.data, job.options)));
    const failedAt = results.findIndex((r) => r.status === 'rejected');
    for (const result of results) if (result.status === 'fulfilled') jids.push(result.value);
    if (failedAt >= 0) {
      progress.stop(jids.length);
      const reason = (results[failedAt] as PromiseRejectedResult).reason as unknown;
      const message = messageOf(reason);
      throw new CliError(`line ${window[failedAt]!.line}: ${message}; ${jids.length} of ${jobs.length} jobs were written`, exitCodeOf(reason));
    }
    progress.update(jids.length);
  }
  progress.stop(jids.length);
  return jids;
}

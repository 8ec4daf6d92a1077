/**
 * What every POST does to Redis, through the client library. Each action
 * returns where to go next and a message for the page that follows (the
 * browser is redirected: POST-redirect-GET). Authentication, the read-only
 * switch and the CSRF check have all passed before anything here runs.
 *
 * "Retry" of a failed job does what qless's own web app does: the job is put
 * back into the queue it failed in, with its klass, data, priority, tags
 * and retries (its history is kept and its failure stays on record until it
 * completes).
 */
import { checkOperatorValue, numericOption } from '../config.js';
import { QlessError } from '../errors.js';
import { Job } from '../job.js';
import { isConnectionProblem, plainMessage, sentence, stateWords } from '../messages.js';
import { RecurringJob } from '../recurring.js';
import { readRateLimit } from '../throttles.js';
import { failedJids } from './data.js';
import { HttpError } from './http.js';
import type { Client } from '../client.js';
import type { Flash } from './views/layout.js';

export interface ActionRequest {
  client: Client;
  /** Decoded path parameters (the queue, jid, group…). */
  params: readonly string[];
  form: URLSearchParams;
  /** Builds a dashboard URL from path segments. */
  link: (...segments: string[]) => string;
}

export interface ActionResult {
  location: string;
  flash: Flash;
}

export type Action = (r: ActionRequest) => Promise<ActionResult>;

/** Jobs handled per round trip by "retry all" / "cancel all". */
const BATCH = 100;

function ok(location: string, text: string): ActionResult {
  return { location, flash: { kind: 'ok', text } };
}

function refused(location: string, text: string): ActionResult {
  return { location, flash: { kind: 'error', text } };
}

/** Whether the library or the core refused (as opposed to Redis being out of reach, or a bug). */
function isRefusal(error: unknown): error is QlessError {
  return error instanceof QlessError && !isConnectionProblem(error);
}

function field(form: URLSearchParams, name: string): string {
  const value = (form.get(name) ?? '').trim();
  if (value === '') throw new HttpError(400, `the form field "${name}" is missing`);
  return value;
}

async function jobOf(r: ActionRequest): Promise<Job> {
  const jid = r.params[0]!;
  const found = await r.client.jobs.get(jid);
  if (!(found instanceof Job)) throw new HttpError(404, `job ${jid} does not exist`);
  return found;
}

/** Run a job action; a refusal by the core comes back as a message on the job's page. */
function jobAction(run: (job: Job, r: ActionRequest) => Promise<ActionResult>): Action {
  return async (r) => {
    const job = await jobOf(r);
    try {
      return await run(job, r);
    } catch (error) {
      if (isRefusal(error)) return refused(r.link('jobs', job.jid), sentence(plainMessage(error)));
      throw error;
    }
  };
}

/** Put a failed job back into its queue as it was (see the module comment). */
async function retryFailed(job: Job): Promise<void> {
  await job.requeue(job.queue, { priority: job.priority, tags: job.tags, retries: job.retries });
}

export const pauseQueue: Action = async (r) => {
  const name = r.params[0]!;
  await r.client.queue(name).pause();
  return ok(r.link('queues', name), `Paused queue ${name}.`);
};

export const unpauseQueue: Action = async (r) => {
  const name = r.params[0]!;
  await r.client.queue(name).unpause();
  return ok(r.link('queues', name), `Unpaused queue ${name}.`);
};

export const retryJob = jobAction(async (job, r) => {
  if (job.state !== 'failed') return refused(r.link('jobs', job.jid), `Job ${job.jid} is ${stateWords(job.state)}, not failed: only failed jobs are retried; move it to a queue instead.`);
  await retryFailed(job);
  return ok(r.link('jobs', job.jid), `Retried job ${job.jid} in queue ${job.queue}.`);
});

export const cancelJob = jobAction(async (job, r) => {
  await job.cancel();
  return ok(job.queue === '' ? r.link('') : r.link('queues', job.queue), `Canceled job ${job.jid}.`);
});

export const moveJob = jobAction(async (job, r) => {
  const queue = field(r.form, 'queue');
  await job.requeue(queue);
  return ok(r.link('jobs', job.jid), `Moved job ${job.jid} to queue ${queue}.`);
});

export const setPriority = jobAction(async (job, r) => {
  const text = field(r.form, 'priority');
  const priority = Number(text);
  if (!Number.isFinite(priority)) return refused(r.link('jobs', job.jid), `Priority must be a number, not ${text}.`);
  await job.setPriority(priority);
  return ok(r.link('jobs', job.jid), `Job ${job.jid} now has priority ${priority}.`);
});

export const tagJob = jobAction(async (job, r) => {
  const tag = field(r.form, 'tag');
  await job.tag(tag);
  return ok(r.link('jobs', job.jid), `Tagged job ${job.jid} with ${tag}.`);
});

export const untagJob = jobAction(async (job, r) => {
  const tag = field(r.form, 'tag');
  await job.untag(tag);
  return ok(r.link('jobs', job.jid), `Removed tag ${tag} from job ${job.jid}.`);
});

export const trackJob = jobAction(async (job, r) => {
  await job.track();
  return ok(r.link('jobs', job.jid), `Tracking job ${job.jid}.`);
});

export const untrackJob = jobAction(async (job, r) => {
  await job.untrack();
  return ok(r.link('jobs', job.jid), `Stopped tracking job ${job.jid}.`);
});

export const unrecur: Action = async (r) => {
  const jid = r.params[0]!;
  const found = await r.client.jobs.get(jid);
  if (!(found instanceof RecurringJob)) throw new HttpError(404, `recurring job ${jid} does not exist`);
  await found.cancel();
  return ok(r.link('recurring'), `Stopped recurring job ${jid}.`);
};

/**
 * Retry every job of a failure group, each into the queue it failed in.
 * Pages are read from the head again after each batch, since retried jobs
 * leave the list; jobs that cannot be retried are stepped over.
 */
export const retryGroup: Action = async (r) => {
  const group = r.params[0]!;
  let offset = 0;
  let retried = 0;
  const problems: string[] = [];
  for (;;) {
    const { jids } = await failedJids(r.client, group, offset, BATCH);
    if (jids.length === 0) break;
    const jobs = await r.client.jobs.multiget(jids);
    let done = 0;
    for (const job of jobs) {
      try {
        await retryFailed(job);
        done++;
      } catch (error) {
        if (!isRefusal(error)) throw error;
        problems.push(`${job.jid}: ${plainMessage(error)}`);
      }
    }
    retried += done;
    offset += jids.length - done;
  }
  const text = `Retried ${retried} job${retried === 1 ? '' : 's'} of ${group}.`;
  if (problems.length > 0) return refused(r.link('failed', group), `${text} ${problems.length} could not be retried: ${problems.slice(0, 3).join('; ')}`);
  return ok(r.link('failed'), text);
};

/**
 * Cancel every job of a failure group. A job other jobs depend on can only
 * be canceled together with them, so a batch the core refuses is retried
 * job by job and those jobs are left in place.
 */
export const cancelGroup: Action = async (r) => {
  const group = r.params[0]!;
  let offset = 0;
  let canceled = 0;
  let kept = 0;
  for (;;) {
    const { jids } = await failedJids(r.client, group, offset, BATCH);
    if (jids.length === 0) break;
    const existing = (await r.client.jobs.multiget(jids)).map((job) => job.jid);
    // A jid whose job is gone stays in the list (cancel only removes jobs it finds).
    offset += jids.length - existing.length;
    try {
      await r.client.jobs.cancel(...existing);
      canceled += existing.length;
    } catch (error) {
      if (!isRefusal(error)) throw error;
      for (const jid of existing) {
        try {
          await r.client.jobs.cancel(jid);
          canceled++;
        } catch (inner) {
          if (!isRefusal(inner)) throw inner;
          kept++;
          offset++;
        }
      }
    }
  }
  const text = `Canceled ${canceled} job${canceled === 1 ? '' : 's'} of ${group}.`;
  if (kept > 0) return refused(r.link('failed', group), `${text} ${kept} could not be canceled because other jobs depend on them.`);
  return ok(r.link('failed'), text);
};

export const setConfig: Action = async (r) => {
  const option = field(r.form, 'option');
  const raw = r.form.get('value') ?? '';
  // A stray space typed after a number is no reason to refuse it; text options keep theirs.
  const value = numericOption(option) === undefined ? raw : raw.trim();
  let result;
  try {
    checkOperatorValue(option, value);
    result = await r.client.config.set(option, value);
  } catch (error) {
    if (isRefusal(error)) return refused(r.link('config'), `${sentence(plainMessage(error))} Nothing was changed.`);
    throw error;
  }
  const text = `Set ${option} to ${value}.`;
  if (result.warning !== undefined) return { location: r.link('config'), flash: { kind: 'warning', text: `${text} ${result.warning}` } };
  return ok(r.link('config'), text);
};

export const unsetConfig: Action = async (r) => {
  const option = field(r.form, 'option');
  await r.client.config.unset(option);
  return ok(r.link('config'), `Unset ${option}.`);
};

/**
 * Forget a worker: it leaves the listings (a worker that is still running
 * reappears on its next pop or heartbeat; the jobs it holds are untouched).
 */
export const forgetWorker: Action = async (r) => {
  const name = r.params[0]!;
  const known = (await r.client.workers.counts()).some((w) => w.name === name);
  if (!known) return refused(r.link('workers'), `There is no worker ${name} to forget.`);
  await r.client.workers.deregister(name);
  return ok(r.link('workers'), `Forgot worker ${name}. If it is still running, it shows up again on its next pop or heartbeat.`);
};

/**
 * Retry or cancel chosen jobs of a failure group: the checked rows, or the
 * one row whose button was pressed (both send `jid` fields and `do`). Each
 * job is checked again first, so one that left the group meanwhile
 * (retried by someone else) is stepped over rather than acted on blindly.
 */
export const actOnSelected: Action = async (r) => {
  const group = r.params[0]!;
  const verb = field(r.form, 'do');
  if (verb !== 'retry' && verb !== 'cancel') throw new HttpError(400, 'the form field "do" must be retry or cancel');
  const jids = [...new Set(r.form.getAll('jid').map((jid) => jid.trim()).filter((jid) => jid !== ''))];
  const back = r.link('failed', group);
  if (jids.length === 0) return refused(back, 'No jobs were selected.');
  const jobs = (await r.client.jobs.multiget(jids)).filter((job) => job.state === 'failed' && job.failure?.group === group);
  const skipped = jids.length - jobs.length;
  const problems: string[] = [];
  let done = 0;
  for (const job of jobs) {
    try {
      if (verb === 'retry') await retryFailed(job);
      else await job.cancel();
      done++;
    } catch (error) {
      if (!isRefusal(error)) throw error;
      problems.push(`${job.jid}: ${plainMessage(error)}`);
    }
  }
  const past = verb === 'retry' ? 'Retried' : 'Canceled';
  const text = `${past} ${done} job${done === 1 ? '' : 's'} of ${group}.${skipped > 0 ? ` ${skipped} had left the group already.` : ''}`;
  if (problems.length > 0) return refused(back, `${text} ${problems.length} could not be ${verb === 'retry' ? 'retried' : 'canceled'}: ${problems.slice(0, 3).join('; ')}`);
  return ok(back, text);
};

/** Set a throttle's limit (and, when given, when it expires). */
export const setThrottle: Action = async (r) => {
  const name = field(r.form, 'name');
  const maximum = Number(field(r.form, 'maximum'));
  const expirationText = (r.form.get('expiration') ?? '').trim();
  const expiration = expirationText === '' ? 0 : Number(expirationText);
  try {
    await r.client.throttles.set(name, maximum, { expiration });
  } catch (error) {
    if (isRefusal(error)) return refused(r.link('throttles'), `${sentence(plainMessage(error))} Nothing was changed.`);
    throw error;
  }
  const limit = maximum > 0 ? `at most ${maximum} at once` : 'no limit';
  return ok(r.link('throttles'), `Set ${name} to ${limit}${expiration > 0 ? ` for ${expiration} seconds` : ''}.`);
};

/** Remove a throttle's limit; its holders and parked jobs stay (the parked ones may start). */
export const deleteThrottle: Action = async (r) => {
  const name = field(r.form, 'name');
  await r.client.throttles.delete(name);
  return ok(r.link('throttles'), `Removed the limit of ${name}.`);
};

/** Set a queue's rate limit from `<limit>/<seconds>`, or remove it (`off`). */
export const setRateLimit: Action = async (r) => {
  const name = r.params[0]!;
  const queue = r.client.queue(name);
  const back = r.link('queues', name);
  const read = readRateLimit(field(r.form, 'limit'));
  if (read === 'off') {
    await queue.clearRateLimit();
    return ok(back, `Removed the rate limit of ${name}.`);
  }
  if ('problem' in read) return refused(back, `${sentence(read.problem)} Nothing was changed.`);
  try {
    await queue.setRateLimit(read.limit, read.per);
  } catch (error) {
    if (isRefusal(error)) return refused(back, `${sentence(plainMessage(error))} Nothing was changed.`);
    throw error;
  }
  return ok(back, `${name} now starts at most ${read.limit} jobs per ${read.per} seconds.`);
};

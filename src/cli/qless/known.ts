/**
 * The rule for names the core does not know: a queue, a jid to depend on.
 * They are refused (exit 1) before anything is written, with the names the
 * core does know when there are few, rather than passed over the way the
 * core does (pausing a queue nobody uses, depending on a job that is not
 * there and so waiting for nothing). `--force` is the way round, where a
 * command has a use for it (pausing a queue before its first job).
 */
import type { Client } from '../../client.js';
import { NotFoundError } from './exit.js';

/** The names of the known queues (those the core lists: a job was put into them and they were not forgotten). */
export async function queueNames(client: Client): Promise<string[]> {
  return (await client.queues.counts()).map((q) => q.name);
}

function knownList(names: readonly string[]): string {
  if (names.length === 0) return 'there are no queues yet';
  if (names.length > 8) return `${names.length} queues are known; see "qless-ts queues"`;
  return `known: ${names.join(', ')}`;
}

/** Refuse unless every one of `names` is a known queue. */
export async function requireQueues(client: Client, names: readonly string[], then: string): Promise<void> {
  const known = await queueNames(client);
  const unknown = names.filter((name) => !known.includes(name));
  if (unknown.length === 0) return;
  const which = unknown.length === 1 ? `no queue ${unknown[0]}` : `no queues ${unknown.join(', ')}`;
  throw new NotFoundError(`${which} (${knownList(known)}); ${then}`);
}

/**
 * Refuse unless every one of `jids` is a job that can still be waited for:
 * the core ignores a dependency on a missing or completed job, so the
 * dependent would not wait at all.
 */
export async function requireDependencies(client: Client, jids: readonly string[], then: string): Promise<void> {
  const found = new Map((await client.jobs.multiget(jids)).map((job) => [job.jid, job]));
  const missing = jids.filter((jid) => !found.has(jid));
  if (missing.length > 0) throw new NotFoundError(`no job ${missing.join(', ')} to depend on; ${then}`);
  const complete = jids.filter((jid) => found.get(jid)!.state === 'complete');
  if (complete.length > 0) throw new NotFoundError(`job ${complete.join(', ')} ${complete.length === 1 ? 'is' : 'are'} complete already, so there is nothing to wait for; ${then}`);
}

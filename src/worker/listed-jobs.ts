/**
 * The supervisor's fallback for a silent child's unclaimed jobs.
 *
 * A child claims most jobs only once their code started (see
 * src/worker/parent.ts): if that code blocks the child's event loop from
 * its first line, the claim is not written until it yields, and the
 * supervisor would not heartbeat a job whose lock then runs out. So once a
 * child has been silent (no pong) for a while, the supervisor asks Redis
 * which jobs its worker name holds (`workers.get`, then `multiget` for the
 * queue and expiry) and heartbeats, at once and from then on, those running
 * under that name that it does not track yet. It looks once per silence
 * spell and again every LOOK_AGAIN_MS while the spell lasts.
 *
 * The entries are dropped when the child's claim for the same job arrives
 * (its own entry heartbeats it from then on), when the child answers again
 * (it sends the claims waiting before its pong), and when it exits (a child
 * that died has its jobs given back, see src/worker/leftovers.ts). A
 * refused heartbeat drops its entry: the child hears of the lost lock
 * itself, on its `ql:w:<worker>` channel, once its event loop is free. Until
 * then the job's code may still be running while the job is handed out
 * again, so the supervisor treats the refusal as it does for a claimed job
 * it aborts: if the child stays silent UNRESPONSIVE_KILL_MS longer, it is
 * killed (see `refused`).
 *
 * Only jobs whose lock the child's own name holds are found: a child
 * therefore claims before their code starts the jobs it resumed under
 * another name, and those whose lock is too short to wait for this.
 */
import type { Client } from '../client.js';
import type { Heartbeater } from './heartbeats.js';
import { errorFields, type Logger } from './logger.js';

/** A child that has not answered pings for a while. */
export interface SilentChild {
  index: number;
  pid: number;
  /** The worker name its jobs are locked under. */
  worker: string;
  /** For how long it has been silent (ms). */
  silentMs: number;
  /** Whether the supervisor heartbeats this job for the child already (from its claim). */
  tracked(jid: string): boolean;
}

/** A job heartbeated for a silent child. */
export interface ListedJob {
  key: string;
  jid: string;
  queue: string;
  klass: string;
}

/** One silence spell of one child. */
interface Spell {
  pid: number;
  entries: Map<string, ListedJob>;
  /** When the last look started (ms since the epoch). */
  lookedAt: number;
  looking: boolean;
  /** The spell's info line was logged. */
  logged: boolean;
  /** The first heartbeat refused in this spell (the job's lock is gone while the child is blocked). */
  refused: { jid: string; at: number } | undefined;
}

/** The spell's log line; `jobs` says how many were found. */
export const SILENT_CHILD_LOG = 'a child has not answered pings for a while: heartbeating the jobs Redis lists under its name that it has not claimed yet, until it answers';
/** While a child stays silent, look again this often (ms) for jobs it popped since, in case it answered briefly. */
const LOOK_AGAIN_MS = 5000;
/** After a failed look (Redis away), try again this soon (ms). */
const RETRY_MS = 1000;

export class ListedJobs {
  readonly #client: Client;
  readonly #log: Logger;
  readonly #heartbeats: Heartbeater;
  /** Silence spells going on, by child pid. */
  readonly #spells = new Map<number, Spell>();
  /** Every entry heartbeated, by heartbeat key. */
  readonly #byKey = new Map<string, Spell>();

  constructor(client: Client, log: Logger, heartbeats: Heartbeater) {
    this.#client = client;
    this.#log = log;
    this.#heartbeats = heartbeats;
  }

  /** Jobs heartbeated for silent children now. */
  get size(): number {
    return this.#byKey.size;
  }

  /** A child is silent: look for its unclaimed jobs when a look is due. */
  silent(child: SilentChild): void {
    let spell = this.#spells.get(child.pid);
    if (spell === undefined) {
      spell = { pid: child.pid, entries: new Map(), lookedAt: 0, looking: false, logged: false, refused: undefined };
      this.#spells.set(child.pid, spell);
    }
    if (spell.looking || Date.now() - spell.lookedAt < LOOK_AGAIN_MS) return;
    void this.#look(spell, child);
  }

  /** The child answered a ping: its spell is over (the claims it had waiting came before the pong). */
  answered(pid: number | undefined): void {
    if (pid !== undefined && this.#spells.size > 0) this.#end(pid);
  }

  /** The child exited: its spell is over. Returns the jobs that were heartbeated for it. */
  exited(pid: number | undefined): ListedJob[] {
    return pid === undefined ? [] : this.#end(pid);
  }

  /** The child claimed job `jid`: its claim's entry heartbeats it from now on. */
  claimed(pid: number | undefined, jid: string): void {
    if (pid === undefined || this.#spells.size === 0) return;
    const spell = this.#spells.get(pid);
    const entry = spell?.entries.get(jid);
    if (spell === undefined || entry === undefined) return;
    this.#drop(spell, entry);
  }

  /**
   * The heartbeat of `key` was refused (the Heartbeater dropped it). True
   * when the key was one of these entries (then nothing else is to be done).
   */
  lost(key: string, error: Error): boolean {
    const spell = this.#byKey.get(key);
    if (spell === undefined) return false;
    for (const entry of spell.entries.values()) {
      if (entry.key !== key) continue;
      this.#log.info({ childPid: spell.pid, jid: entry.jid, error: error.message }, 'heartbeat refused for a job its silent child had not claimed yet: the lock is gone (the child is killed if it stays silent)');
      spell.refused ??= { jid: entry.jid, at: Date.now() };
      this.#drop(spell, entry);
    }
    return true;
  }

  /** The first job of a silent child whose heartbeat was refused in this spell, and when. */
  refused(pid: number | undefined): { jid: string; at: number } | undefined {
    return pid === undefined || this.#spells.size === 0 ? undefined : this.#spells.get(pid)?.refused;
  }

  async #look(spell: Spell, child: SilentChild): Promise<void> {
    spell.looking = true;
    spell.lookedAt = Date.now();
    const untracked = (jid: string): boolean => !child.tracked(jid) && !spell.entries.has(jid);
    try {
      const listed = await this.#client.workers.get(child.worker);
      const jids = [...new Set([...listed.jobs, ...listed.stalled])].filter(untracked);
      const jobs = jids.length === 0 ? [] : await this.#client.jobs.multiget(jids);
      // The child answered, or exited, meanwhile: its claims (or its
      // death's clean-up) take care of these jobs.
      if (this.#spells.get(spell.pid) !== spell) return;
      const found = jobs.filter((job) => job.state === 'running' && job.worker === child.worker && untracked(job.jid));
      for (const job of found) {
        const entry: ListedJob = { key: `listed:${spell.pid}:${job.jid}`, jid: job.jid, queue: job.queue, klass: job.klass };
        spell.entries.set(job.jid, entry);
        this.#byKey.set(entry.key, spell);
        // At once: the lock may have been running out since the job was popped.
        this.#heartbeats.track({ key: entry.key, jid: job.jid, worker: child.worker, queue: job.queue, expires: job.expires }, true);
      }
      if (!spell.logged) {
        spell.logged = true;
        this.#log.info(
          { child: child.index, childPid: spell.pid, worker: child.worker, silentMs: child.silentMs, jobs: found.length, jids: found.map((job) => job.jid) },
          SILENT_CHILD_LOG,
        );
      } else if (found.length > 0) {
        this.#log.debug({ child: child.index, childPid: spell.pid, jids: found.map((job) => job.jid) }, 'found more unclaimed jobs of a silent child');
      }
    } catch (error) {
      this.#log.debug({ child: child.index, childPid: spell.pid, ...errorFields(error) }, 'could not list the jobs of a silent child; trying again');
      spell.lookedAt = Date.now() - LOOK_AGAIN_MS + RETRY_MS;
    } finally {
      spell.looking = false;
    }
  }

  #end(pid: number): ListedJob[] {
    const spell = this.#spells.get(pid);
    if (spell === undefined) return [];
    this.#spells.delete(pid);
    const entries = [...spell.entries.values()];
    for (const entry of entries) this.#drop(spell, entry);
    return entries;
  }

  #drop(spell: Spell, entry: ListedJob): void {
    spell.entries.delete(entry.jid);
    this.#byKey.delete(entry.key);
    this.#heartbeats.untrack(entry.key);
  }
}

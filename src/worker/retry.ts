/**
 * Retry policies: when a job's code throws, whether the worker gives the job
 * back to its queue for a later attempt (the core's `retry`, spending one of
 * the job's `retries`) or fails it at once (qless's rule, and the default).
 *
 * A job class opts in with a static `retry` property; the worker's
 * `--retry-backoff`/`--retry-delay` give a default for classes without one.
 * The class wins over the worker flag, and without either nothing changes.
 * `UnrecoverableError` always fails at once, and a job whose `remaining` is
 * spent fails too (into the same `<queue>-<ErrorName>` group).
 *
 * Jitter: exponential delays are drawn uniformly from [d/2, d], d being the
 * capped exponential delay, so that jobs that failed together (an outage)
 * do not all come back in the same second; each attempt's range starts
 * where the previous one ended, so delays still grow. `jitter: false` turns
 * it off; fixed delays have none unless asked.
 */
import { UnrecoverableError } from '../errors.js';

/** Seconds to wait before the given attempt (1-based: the attempt that just failed). */
export type RetryDelayFunction = (attempt: number, error: unknown) => number;

/** The `static retry` of a job class. */
export interface RetryPolicy {
  /** `'fixed'`: `delay` every time; `'exponential'`: `delay * 2^(attempt-1)`; or a function of its own. */
  backoff: 'fixed' | 'exponential' | RetryDelayFunction;
  /** Seconds: the first delay (exponential) or every delay (fixed). Default 5. */
  delay?: number;
  /** Seconds: no delay is longer than this. Default 3600. */
  maxDelay?: number;
  /** Spread delays over [d/2, d]; default true for exponential, false otherwise. */
  jitter?: boolean;
}

export const DEFAULT_RETRY_DELAY = 5;
export const DEFAULT_MAX_RETRY_DELAY = 3600;

/** What the worker does with a thrown error. */
export type RetryDecision = { retry: true; delay: number } | { retry: false };

/** The `static retry` of a job's class, if it has a usable one. */
export function classPolicy(target: object): RetryPolicy | undefined {
  const policy = (target as { retry?: unknown }).retry;
  if (typeof policy === 'function') return { backoff: policy as RetryDelayFunction };
  if (typeof policy !== 'object' || policy === null) return undefined;
  const backoff = (policy as { backoff?: unknown }).backoff;
  if (backoff === 'fixed' || backoff === 'exponential' || typeof backoff === 'function') return policy as RetryPolicy;
  return undefined;
}

/** Seconds before the next attempt, after attempt `attempt` failed with `error`. */
export function retryDelay(policy: RetryPolicy, attempt: number, error: unknown, random: () => number = Math.random): number {
  const max = finiteOr(policy.maxDelay, DEFAULT_MAX_RETRY_DELAY);
  if (typeof policy.backoff === 'function') {
    const chosen = Number(policy.backoff(attempt, error));
    return Number.isFinite(chosen) ? Math.min(Math.max(0, chosen), max) : 0;
  }
  const base = Math.max(0, finiteOr(policy.delay, DEFAULT_RETRY_DELAY));
  const exponential = policy.backoff === 'exponential';
  const full = Math.min(exponential ? base * 2 ** Math.max(0, attempt - 1) : base, max);
  const jitter = policy.jitter ?? exponential;
  return jitter ? full / 2 + random() * (full / 2) : full;
}

/**
 * Retry or fail: retry when a policy applies (the class's, else the
 * worker's), the error is not an UnrecoverableError and the job has retries
 * left. A policy function that throws counts as no policy (the job fails).
 */
export function decide(error: unknown, policy: RetryPolicy | undefined, attempt: number, remaining: number): RetryDecision {
  if (policy === undefined || unrecoverable(error) || remaining <= 0) return { retry: false };
  try {
    return { retry: true, delay: retryDelay(policy, attempt, error) };
  } catch {
    return { retry: false };
  }
}

/**
 * An UnrecoverableError, also one from another copy of qless-ts (a job
 * module may resolve its own), which `instanceof` would not recognise.
 */
export function unrecoverable(error: unknown): boolean {
  return error instanceof UnrecoverableError || (error instanceof Error && (error as { code?: unknown }).code === 'UNRECOVERABLE');
}

function finiteOr(value: number | undefined, fallback: number): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : fallback;
}

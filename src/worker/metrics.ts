/**
 * Prometheus metrics of a worker daemon (`--metrics-port`), kept by the
 * supervisor: the children relay each finished run (src/worker/job-events.ts),
 * the supervisor counts its own children, restarts, reloads and Redis, and
 * serves them all at `/metrics` on `--metrics-bind` (127.0.0.1 by default:
 * the figures name queues and job classes, so exposing them is a choice).
 *
 * | metric | type | labels |
 * |---|---|---|
 * | qless_worker_jobs_total | counter | queue, klass, outcome |
 * | qless_worker_job_duration_seconds | histogram | queue, klass |
 * | qless_worker_children | gauge | |
 * | qless_worker_child_restarts_total | counter | reason |
 * | qless_worker_reloads_total | counter | |
 * | qless_worker_redis_up | gauge | |
 * | process_*, nodejs_* | prom-client defaults (the supervisor's own process) | |
 */
import { createServer, type Server } from 'node:http';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { RelayedEvent } from './protocol.js';
import type { Logger } from './logger.js';
import { errorFields } from './logger.js';

/** Why the supervisor replaced a child (the `reason` label). */
export type RestartReason = 'died' | 'recycled' | 'stopped';

/** Seconds: from a millisecond job to a long batch. */
const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600];

/** The outcomes of the end-of-run events. */
const OUTCOME: Partial<Record<RelayedEvent['event'], string>> = {
  'job:complete': 'complete',
  'job:fail': 'fail',
  'job:retry': 'retry',
  'job:lost': 'lost',
  'job:timeout': 'timeout',
  'job:canceled': 'canceled',
};

export class WorkerMetrics {
  readonly registry = new Registry();
  readonly #jobs: Counter<'queue' | 'klass' | 'outcome'>;
  readonly #duration: Histogram<'queue' | 'klass'>;
  readonly #restarts: Counter<'reason'>;
  readonly #reloads: Counter;
  #server: Server | undefined;

  constructor(sources: { children: () => number; redisUp: () => boolean }) {
    const registers = [this.registry];
    this.#jobs = new Counter({ name: 'qless_worker_jobs_total', help: 'Jobs this worker finished, by queue, klass and outcome (complete, fail, retry, lost, timeout, canceled).', labelNames: ['queue', 'klass', 'outcome'], registers });
    this.#duration = new Histogram({ name: 'qless_worker_job_duration_seconds', help: 'How long job code ran, by queue and klass.', labelNames: ['queue', 'klass'], buckets: DURATION_BUCKETS, registers });
    new Gauge({ name: 'qless_worker_children', help: 'Child processes running now.', registers, collect() { this.set(sources.children()); } });
    this.#restarts = new Counter({ name: 'qless_worker_child_restarts_total', help: 'Children replaced, by reason (died, recycled, stopped).', labelNames: ['reason'], registers });
    this.#reloads = new Counter({ name: 'qless_worker_reloads_total', help: 'Children recycled because a job module changed on disk.', registers });
    new Gauge({ name: 'qless_worker_redis_up', help: '1 while the supervisor reaches Redis, else 0.', registers, collect() { this.set(sources.redisUp() ? 1 : 0); } });
    collectDefaultMetrics({ register: this.registry });
  }

  /** A child's relayed event. */
  observe(event: RelayedEvent): void {
    const outcome = OUTCOME[event.event];
    if (outcome === undefined) return;
    const { queue, klass } = event.job;
    this.#jobs.inc({ queue, klass, outcome });
    if (event.durationMs !== undefined) this.#duration.observe({ queue, klass }, event.durationMs / 1000);
  }

  /** A run its child could not report: the child died with it. */
  lost(queue: string, klass: string): void {
    this.#jobs.inc({ queue, klass, outcome: 'lost' });
  }

  restarted(reason: RestartReason): void {
    this.#restarts.inc({ reason });
  }

  reloaded(): void {
    this.#reloads.inc();
  }

  /** Serve `/metrics`; resolves with the port once listening (rejects when it cannot bind). */
  listen(port: number, host: string, log: Logger): Promise<number> {
    const server = createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0];
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' }).end('Only GET and HEAD are allowed here.\n');
        return;
      }
      if (path !== '/metrics') {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('Metrics are at /metrics.\n');
        return;
      }
      this.registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': this.registry.contentType }).end(req.method === 'HEAD' ? undefined : text),
        (error: unknown) => {
          log.warn({ ...errorFields(error) }, 'could not collect the metrics');
          res.writeHead(500, { 'content-type': 'text/plain' }).end('The metrics could not be collected; see the worker log.\n');
        },
      );
    });
    this.#server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        const address = server.address();
        resolve(typeof address === 'object' && address !== null ? address.port : port);
      });
    });
  }

  close(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    if (!server) return Promise.resolve();
    server.closeAllConnections();
    return new Promise((resolve) => server.close(() => resolve()));
  }
}

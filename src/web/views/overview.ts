/**
 * The overview: every queue with its counts, the failure groups, the tracked
 * jobs and the workers. The sections live in one element that app.js
 * re-fetches (from /fragments/overview) whenever the core publishes an
 * event, and every few seconds in case an event was missed (pops publish
 * nothing unless the job is tracked).
 */
import { evictionWarnings } from '../../connection/eviction.js';
import { html, type SafeHtml } from '../html.js';
import { count, day, iso, relative, utc } from '../format.js';
import { actionButton, badge, groupLink, jobTable, number, queueLink, section, workerLink } from './components.js';
import { href, withQuery, type PageRequest, type ViewContext } from './context.js';
import type { Page } from './layout.js';
import type { QueueCounts, WorkerCounts } from '../../types.js';

const STATES = ['running', 'waiting', 'scheduled', 'stalled', 'depends', 'recurring'] as const;

/** Every queue with its counts; `paused` shown as a badge. */
export function queueTable(ctx: ViewContext, queues: readonly QueueCounts[]): SafeHtml {
  if (queues.length === 0) return html`<p class="empty">No queues yet: put a job to create one.</p>`;
  return html`<div class="scroll"><table class="queues">
    <thead><tr><th scope="col">Queue</th>${STATES.map((s) => html`<th scope="col" class="n">${s}</th>`)}</tr></thead>
    <tbody>${queues.map(
      (q) => html`<tr data-queue="${q.name}"><td>${queueLink(ctx, q.name)} ${q.paused ? badge('paused') : ''}</td>${STATES.map(
        (s) => html`<td class="n col-${s}">${q[s] > 0 ? html`<a href="${withQuery(href(ctx, 'queues', q.name), { state: s })}">${number(q[s])}</a>` : number(0)}</td>`,
      )}</tr>`,
    )}</tbody>
  </table></div>`;
}

/**
 * The workers the core knows, with when each was last seen; with
 * `forget`, a button per worker that drops it from the listing.
 */
export function workerTable(ctx: ViewContext, workers: readonly WorkerCounts[], options: { forget?: boolean } = {}): SafeHtml {
  if (workers.length === 0) return html`<p class="empty">No workers seen lately.</p>`;
  const forget = options.forget === true && !ctx.readOnly;
  return html`<div class="scroll"><table class="workers">
    <thead><tr><th scope="col">Worker</th><th scope="col" class="n">Running</th><th scope="col" class="n">Stalled</th><th scope="col">Last seen</th>${forget ? html`<th scope="col"><span class="sr">Actions</span></th>` : ''}</tr></thead>
    <tbody>${workers.map(
      (w) => html`<tr data-worker="${w.name}"><td>${workerLink(ctx, w.name)}</td><td class="n">${number(w.jobs)}</td><td class="n">${number(w.stalled)}</td><td class="seen">${seen(ctx, w.lastSeen)}</td>${forget
        ? html`<td>${actionButton(ctx, href(ctx, 'workers', w.name, 'forget'), 'Forget', {
            kind: 'plain',
            name: `Forget worker ${w.name}`,
            title: 'Drop it from this list; a worker still running comes back on its next pop or heartbeat',
            confirm: `Forget worker ${w.name}?`,
          })}</td>`
        : ''}</tr>`,
    )}</tbody>
  </table></div>`;
}

/** When a worker was last seen: "12 s ago", the exact time on hover. */
function seen(ctx: ViewContext, when: number | null): SafeHtml {
  if (when === null) return html`<span class="muted">—</span>`;
  return html`<time datetime="${iso(when)}" title="${utc(when)}">${relative(when, ctx.now) || 'now'}</time>`;
}

export function failureTable(ctx: ViewContext, groups: Readonly<Record<string, number>>): SafeHtml {
  const entries = Object.entries(groups).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  if (entries.length === 0) return html`<p class="empty">No failed jobs.</p>`;
  return html`<div class="scroll"><table class="failures">
    <thead><tr><th scope="col">Group</th><th scope="col" class="n">Jobs</th></tr></thead>
    <tbody>${entries.map(([group, n]) => html`<tr><td>${groupLink(ctx, group)}</td><td class="n">${number(n)}</td></tr>`)}</tbody>
  </table></div>`;
}

/**
 * Today's work across every queue (UTC day, from the core's per-queue daily
 * statistics): jobs completed (the run-time samples are taken at
 * completion), failures and retries.
 */
async function today(r: PageRequest, queues: readonly QueueCounts[]): Promise<SafeHtml> {
  const stats = await Promise.all(queues.map((q) => r.client.queue(q.name).stats(r.view.now)));
  const sum = (pick: (s: (typeof stats)[number]) => number): number => stats.reduce((total, s) => total + pick(s), 0);
  return html`<dl class="stats today" aria-label="Today across all queues">
    <div><dt>Processed today</dt><dd data-today="processed">${count(sum((s) => s.run.count))}</dd></div>
    <div><dt>Failed today</dt><dd data-today="failed">${count(sum((s) => s.failures))}</dd></div>
    <div><dt>Retries today</dt><dd data-today="retries">${count(sum((s) => s.retries))}</dd></div>
  </dl>`;
}

/** The live part of the overview (also served alone as the refresh fragment). */
/**
 * A Redis that may delete keys when full (connection/eviction.ts), said at
 * the top of the overview until it is fixed. A server that will not tell
 * (INFO refused by an ACL) shows nothing.
 */
async function evictionNotice(r: PageRequest): Promise<SafeHtml> {
  const warnings = await evictionWarnings(r.client.redis).catch(() => []);
  return html`${warnings.map(({ nodes, warning }) => html`<p class="flash flash-warning" role="alert" data-eviction>${warning} (${nodes.join(', ')}).</p>`)}`;
}

export async function overviewSections(r: PageRequest): Promise<SafeHtml> {
  const [queues, failed, tracked, workers, eviction] = await Promise.all([
    r.client.queues.counts(),
    r.client.jobs.failed(),
    r.client.jobs.tracked(),
    r.client.workers.counts(),
    evictionNotice(r),
  ]);
  const failures = Object.values(failed).reduce((a, b) => a + b, 0);
  return html`${eviction}${section(`Today (UTC, ${day(r.view.now)})`, await today(r, queues), 'today')}<div class="grid overview">
    ${section(html`Queues <span class="muted">${queues.length}</span>`, queueTable(r.view, queues), 'queues')}
    ${section(html`Failed <span class="muted">${failures}</span>`, failureTable(r.view, failed), 'failed')}
    ${section(html`Tracked <span class="muted">${tracked.jobs.length}</span>`, jobTable(r.view, tracked.jobs, ['jid', 'state'], 'No tracked jobs.'), 'tracked')}
    ${section(html`Workers <span class="muted">${workers.length}</span>`, workerTable(r.view, workers), 'workers')}
  </div>`;
}

export async function overviewPage(r: PageRequest): Promise<Page> {
  return {
    title: 'Overview',
    section: 'overview',
    body: html`<h1>Overview <span class="live" aria-live="polite" data-live-status>live</span></h1>
      <div data-live="${href(r.view, 'fragments', 'overview')}" data-events="${href(r.view, 'events')}">${await overviewSections(r)}</div>`,
  };
}

export async function queuesPage(r: PageRequest): Promise<Page> {
  const queues = await r.client.queues.counts();
  return { title: 'Queues', section: 'queues', body: html`<h1>Queues</h1>${section('All queues', queueTable(r.view, queues))}` };
}

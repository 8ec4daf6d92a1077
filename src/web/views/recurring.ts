/**
 * Recurring templates: the table used on the recurring page and on a
 * queue's "recurring" tab, and the page listing every template of every
 * queue. Each schedule reads in words, with its next three runs in the
 * template's zone; the next occurrence is read from the queue's schedule.
 */
import { iso } from '../format.js';
import { html, type SafeHtml } from '../html.js';
import { runTime, scheduleView, type ScheduleView } from '../../view.js';
import { recurringOf } from '../data.js';
import { jobLink, number, queueLink, section, tagList, time } from './components.js';
import { href, withQuery, type PageRequest, type ViewContext } from './context.js';
import type { Client } from '../../client.js';
import type { Page } from './layout.js';
import type { RecurringJob } from '../../recurring.js';

/** Templates listed per queue on the recurring page, at most. */
const PER_QUEUE = 200;

/** A template, when its next child is due (`null`: not scheduled), and its schedule. */
export interface RecurringRow {
  template: RecurringJob;
  next: number | null;
  view: ScheduleView;
}

/** The templates of these jids with their next occurrences. */
export async function recurringRows(client: Client, jids: readonly string[]): Promise<RecurringRow[]> {
  const templates = await recurringOf(client, jids);
  return Promise.all(
    templates.map(async (template) => {
      const view = await scheduleView(template);
      return { template, next: view.upcoming[0] ?? null, view };
    }),
  );
}

export function recurringTable(ctx: ViewContext, rows: readonly RecurringRow[]): SafeHtml {
  if (rows.length === 0) return html`<p class="empty">No recurring jobs.</p>`;
  return html`<div class="scroll"><table class="recurring">
    <thead><tr><th scope="col">Job</th><th scope="col">Klass</th><th scope="col">Queue</th><th scope="col">Schedule</th><th scope="col" class="n">Priority</th><th scope="col">Tags</th><th scope="col" class="n">Spawned</th><th scope="col">Next</th><th scope="col">Next runs (job's zone)</th></tr></thead>
    <tbody>${rows.map(
      ({ template: t, next, view }) => html`<tr data-jid="${t.jid}"><td>${jobLink(ctx, t.jid)}</td><td><code class="klass">${t.klass}</code></td><td>${queueLink(ctx, t.queue)}</td>
        <td class="schedule">${view.schedule}</td><td class="n">${number(t.priority)}</td><td>${tagList(ctx, t.tags)}</td><td class="n">${number(t.count)}</td>
        <td>${next === null ? html`<span class="muted">—</span>` : time(ctx, next)}</td>
        <td class="next-runs">${view.upcoming.length === 0 ? html`<span class="muted">—</span>` : view.upcoming.map((run, i) => html`${i > 0 ? html`<br>` : ''}<time datetime="${iso(run)}">${runTime(run, t.timezone)}</time>`)}</td></tr>`,
    )}</tbody>
  </table></div>`;
}

export async function recurringPage(r: PageRequest): Promise<Page> {
  const queues = (await r.client.queues.counts()).filter((q) => q.recurring > 0);
  const groups = await Promise.all(
    queues.map(async (q) => ({ queue: q, rows: await recurringRows(r.client, await r.client.queue(q.name).jobs.recurring(0, PER_QUEUE)) })),
  );
  const body = groups.length === 0
    ? html`<p class="empty">No recurring jobs.</p>`
    : groups.map(({ queue, rows }) =>
        section(
          html`${queueLink(r.view, queue.name)} <span class="muted">${queue.recurring}</span>`,
          html`${recurringTable(r.view, rows)}${queue.recurring > PER_QUEUE
            ? html`<p class="muted">The first ${PER_QUEUE}; the queue's <a href="${withQuery(href(r.view, 'queues', queue.name), { state: 'recurring' })}">recurring tab</a> pages through all of them.</p>`
            : ''}`,
        ),
      );
  return { title: 'Recurring jobs', section: 'recurring', body: html`<h1>Recurring jobs</h1>${body}` };
}

/**
 * A job's page: every field, its data pretty-printed, its history as a
 * timeline, dependencies and dependents as links, the failure with its
 * message, and the actions (retry, cancel, move, priority, tags, tracking).
 * A recurring template's jid shows the template instead.
 */
import { duration, prettyJson } from '../format.js';
import { html, type HtmlValue, type SafeHtml } from '../html.js';
import { actionButton, actionInput, autoRefresh, badge, fields, groupLink, jobLink, number, queueLink, section, tagLink, time, workerLink } from './components.js';
import { href, type PageRequest, type ViewContext } from './context.js';
import type { Page } from './layout.js';
import type { Job } from '../../job.js';
import { RecurringJob } from '../../recurring.js';
import type { HistoryEntry } from '../../types.js';

const KNOWN_HISTORY_FIELDS = new Set(['when', 'what', 'q', 'worker', 'group']);

function historyText(ctx: ViewContext, entry: HistoryEntry): SafeHtml {
  const str = (v: unknown): string => (typeof v === 'string' ? v : v === undefined ? '' : JSON.stringify(v));
  switch (entry.what) {
    case 'put':
      return html`put into ${queueLink(ctx, str(entry.q))}`;
    case 'popped':
      return html`popped by ${workerLink(ctx, str(entry.worker))}`;
    case 'done':
      return html`completed`;
    case 'failed':
      return html`failed${entry.group !== undefined ? html` in ${groupLink(ctx, str(entry.group))}` : ''}${entry.worker ? html` by ${workerLink(ctx, str(entry.worker))}` : ''}`;
    case 'timed-out':
      return html`timed out`;
    default: {
      const extra = Object.entries(entry).filter(([key]) => !KNOWN_HISTORY_FIELDS.has(key));
      return html`<span class="logged">${String(entry.what)}</span>${extra.length > 0 ? html` <code class="extra">${JSON.stringify(Object.fromEntries(extra))}</code>` : ''}`;
    }
  }
}

function timeline(ctx: ViewContext, history: readonly HistoryEntry[]): SafeHtml {
  if (history.length === 0) return html`<p class="empty">No history.</p>`;
  return html`<ol class="timeline">${history.map(
    (entry) => html`<li class="event event-${String(entry.what).replace(/[^a-z-]/g, '')}"><span class="when">${time(ctx, entry.when)}</span><span class="what">${historyText(ctx, entry)}</span></li>`,
  )}</ol>`;
}

function jidLinks(ctx: ViewContext, jids: readonly string[]): HtmlValue {
  if (jids.length === 0) return html`<span class="muted">none</span>`;
  return html`<ul class="links">${jids.map((jid) => html`<li>${jobLink(ctx, jid)}</li>`)}</ul>`;
}

function tagsWithUntag(ctx: ViewContext, base: string, tags: readonly string[]): HtmlValue {
  if (tags.length === 0) return html`<span class="muted">none</span>`;
  return html`<ul class="tag-list">${tags.map(
    (tag) => html`<li>${tagLink(ctx, tag)}${actionButton(ctx, `${base}/untag`, '×', { fields: { tag }, kind: 'plain', title: `Remove tag ${tag}`, name: `Remove tag ${tag}` })}</li>`,
  )}</ul>`;
}

function actions(ctx: ViewContext, job: Job, base: string, queues: readonly string[]): HtmlValue {
  if (ctx.readOnly) return '';
  const datalist = html`<datalist id="queue-names">${queues.map((q) => html`<option value="${q}"></option>`)}</datalist>`;
  return section(
    'Actions',
    html`<div class="actions">
      ${job.state === 'failed' && job.queue !== ''
        ? actionButton(ctx, `${base}/retry`, 'Retry', { title: `Put the job back into queue ${job.queue}` })
        : ''}
      ${job.state !== 'complete' ? actionButton(ctx, `${base}/cancel`, 'Cancel', { kind: 'danger', confirm: `Cancel job ${job.jid}? It is deleted.` }) : ''}
      ${job.tracked ? actionButton(ctx, `${base}/untrack`, 'Untrack') : actionButton(ctx, `${base}/track`, 'Track')}
    </div>
    <div class="forms">
      ${actionInput(ctx, `${base}/move`, { name: 'queue', label: 'Move to queue', list: 'queue-names', value: job.queue, placeholder: 'queue' }, 'Move')}${datalist}
      ${actionInput(ctx, `${base}/priority`, { name: 'priority', label: 'Priority', type: 'number', value: String(job.priority), step: 'any' }, 'Set')}
      ${actionInput(ctx, `${base}/tag`, { name: 'tag', label: 'Add tag', placeholder: 'tag' }, 'Tag')}
    </div>`,
    'actions',
  );
}

function jobBody(ctx: ViewContext, job: Job, queues: readonly string[]): SafeHtml {
  const base = href(ctx, 'jobs', job.jid);
  const failure = job.failure;
  return html`<h1 class="job-title"><code class="klass">${job.klass}</code> ${badge(job.state)} ${job.tracked ? badge('tracked') : ''}</h1>
    <p class="jid-line">jid <code>${job.jid}</code></p>
    ${actions(ctx, job, base, queues)}
    <div class="grid">
      ${section(
        'Fields',
        fields([
          ['jid', html`<code>${job.jid}</code>`],
          ['klass', html`<code>${job.klass}</code>`],
          ['queue', queueLink(ctx, job.queue)],
          ['state', badge(job.state)],
          ['priority', number(job.priority)],
          ['tags', tagsWithUntag(ctx, base, job.tags)],
          ['worker', workerLink(ctx, job.worker)],
          ['lock expires', job.state === 'running' ? time(ctx, job.expires) : html`<span class="muted">—</span>`],
          ['retries', html`${number(job.remaining)} left of ${number(job.retries)}`],
          ['tracked', job.tracked ? 'yes' : 'no'],
          ['spawned from', job.spawnedFromJid ? jobLink(ctx, job.spawnedFromJid) : html`<span class="muted">—</span>`],
          ...(job.throttles.length > 0 ? [['throttles', html`${job.throttles.map((id, i) => html`${i > 0 ? ', ' : ''}<code>${id}</code>`)}`] as const] : []),
          ['depends on', jidLinks(ctx, job.dependencies)],
          ['dependents', jidLinks(ctx, job.dependents)],
        ]),
        'fields',
      )}
      ${failure
        ? section(
            'Failure',
            html`${fields([
              ['group', groupLink(ctx, failure.group)],
              ['when', time(ctx, failure.when)],
              ['worker', workerLink(ctx, failure.worker)],
            ])}<pre class="message">${failure.message}</pre>`,
            'failure',
          )
        : ''}
    </div>
    ${section('Data', html`<pre class="json">${prettyJson(job.dataText())}</pre>`, 'data')}
    ${section('History', timeline(ctx, job.history), 'history')}`;
}

function recurringBody(ctx: ViewContext, template: RecurringJob, next: number | null): SafeHtml {
  const base = href(ctx, 'jobs', template.jid);
  return html`<h1 class="job-title"><code class="klass">${template.klass}</code> ${badge('recur')}</h1>
    <p class="jid-line">recurring template <code>${template.jid}</code>; its children are <code>${template.jid}-1</code>, <code>${template.jid}-2</code>, …</p>
    ${ctx.readOnly ? '' : section('Actions', html`<div class="actions">${actionButton(ctx, `${base}/unrecur`, 'Stop recurring', { kind: 'danger', confirm: `Stop recurring job ${template.jid}?` })}</div>`, 'actions')}
    ${section(
      'Template',
      fields([
        ['jid', html`<code>${template.jid}</code>`],
        ['klass', html`<code>${template.klass}</code>`],
        ['queue', queueLink(ctx, template.queue)],
        ['every', duration(template.interval)],
        ['next', next === null ? html`<span class="muted">—</span>` : time(ctx, next)],
        ['priority', number(template.priority)],
        ['tags', template.tags.length === 0 ? html`<span class="muted">none</span>` : html`<span class="tags">${template.tags.map((t) => tagLink(ctx, t))}</span>`],
        ['retries', number(template.retries)],
        ['spawned', html`${number(template.count)} jobs${template.count > 0 ? html` (latest ${jobLink(ctx, `${template.jid}-${template.count}`)})` : ''}`],
        ['backlog', template.backlog === 0 ? 'all overdue occurrences' : number(template.backlog)],
      ]),
      'fields',
    )}
    ${section('Data', html`<pre class="json">${prettyJson(template.rawData)}</pre>`, 'data')}`;
}

export async function jobPage(r: PageRequest): Promise<Page> {
  const jid = r.params[0]!;
  const found = await r.client.jobs.get(jid);
  if (found === null) {
    return { title: 'Job not found', section: 'none', status: 404, body: html`<h1>Job not found</h1><p>There is no job or recurring job <code>${jid}</code>. It may have been canceled, or completed and expired.</p>` };
  }
  if (found instanceof RecurringJob) {
    const template = found;
    return { title: `Recurring ${template.jid}`, section: 'recurring', body: recurringBody(r.view, template, await template.next()) };
  }
  const job = found;
  const queues = r.view.readOnly ? [] : (await r.client.queues.counts()).map((q) => q.name);
  const refresh = autoRefresh(r.view, href(r.view, 'jobs', job.jid), r.query);
  return { title: `Job ${job.jid}`, section: 'none', reload: refresh.on, body: html`<div class="toolbar refresh">${refresh.toggle}</div>${jobBody(r.view, job, queues)}` };
}

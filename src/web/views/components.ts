/**
 * Pieces shared by the pages: links to jobs, queues, workers, tags and
 * failure groups; state badges; times; action forms; job tables; pagers.
 */
import { count, iso, relative, utc } from '../format.js';
import { html, type HtmlValue, type SafeHtml } from '../html.js';
import { CSRF_FIELD } from '../security.js';
import { href, withQuery, type ViewContext } from './context.js';
import type { Job } from '../../job.js';
import { completion, runningFor } from '../../timeline.js';
import { duration } from '../format.js';

export function jobLink(ctx: ViewContext, jid: string, label: HtmlValue = jid): SafeHtml {
  return html`<a class="jid" href="${href(ctx, 'jobs', jid)}">${label}</a>`;
}

export function queueLink(ctx: ViewContext, queue: string): SafeHtml {
  if (queue === '') return html`<span class="muted">—</span>`;
  return html`<a class="queue" href="${href(ctx, 'queues', queue)}">${queue}</a>`;
}

export function workerLink(ctx: ViewContext, worker: string): SafeHtml {
  if (worker === '') return html`<span class="muted">—</span>`;
  return html`<a class="worker" href="${href(ctx, 'workers', worker)}">${worker}</a>`;
}

export function tagLink(ctx: ViewContext, tag: string): SafeHtml {
  return html`<a class="tag" href="${href(ctx, 'tags', tag)}">${tag}</a>`;
}

export function groupLink(ctx: ViewContext, group: string): SafeHtml {
  return html`<a class="group" href="${href(ctx, 'failed', group)}">${group}</a>`;
}

export function tagList(ctx: ViewContext, tags: readonly string[]): SafeHtml {
  if (tags.length === 0) return html`<span class="muted">—</span>`;
  return html`<span class="tags">${tags.map((t) => tagLink(ctx, t))}</span>`;
}

/** A job state (or `paused`, `recur`, `tracked`) as a coloured badge. */
export function badge(state: string): SafeHtml {
  return html`<span class="badge badge-${state.replace(/[^a-z-]/g, '')}">${state}</span>`;
}

/** An absolute UTC time with the relative one beside it; the exact ISO time in `datetime`. */
export function time(ctx: ViewContext, seconds: number): SafeHtml {
  if (!Number.isFinite(seconds) || seconds <= 0) return html`<span class="muted">—</span>`;
  return html`<time datetime="${iso(seconds)}">${utc(seconds)}</time> <span class="muted">${relative(seconds, ctx.now)}</span>`;
}

export function number(n: number): SafeHtml {
  return html`<span class="num">${count(n)}</span>`;
}

/** The hidden CSRF field every POST form carries. */
export function csrfField(ctx: ViewContext): SafeHtml {
  return html`<input type="hidden" name="${CSRF_FIELD}" value="${ctx.csrf}">`;
}

/** Options of {@link actionButton}. */
export interface ActionOptions {
  /** Extra hidden fields. */
  fields?: Readonly<Record<string, string>>;
  /** Ask before submitting (done by app.js). */
  confirm?: string;
  /** `danger` for destructive actions. */
  kind?: 'danger' | 'plain';
  /** Tooltip. */
  title?: string;
  /** Accessible name when the label alone says too little (the "×" of "remove tag urgent"). */
  name?: string;
}

/** A one-button POST form; nothing at all in read-only mode. */
export function actionButton(ctx: ViewContext, action: string, label: string, options: ActionOptions = {}): SafeHtml {
  if (ctx.readOnly) return html``;
  const hidden = Object.entries(options.fields ?? {}).map(([name, value]) => html`<input type="hidden" name="${name}" value="${value}">`);
  return html`<form class="inline" method="post" action="${action}"${options.confirm ? html` data-confirm="${options.confirm}"` : ''}>${csrfField(ctx)}${hidden}<button type="submit" class="btn ${options.kind === 'danger' ? 'btn-danger' : options.kind === 'plain' ? 'btn-plain' : ''}"${options.title ? html` title="${options.title}"` : ''}${options.name ? html` aria-label="${options.name}"` : ''}>${label}</button></form>`;
}

/** A POST form with one labelled input and a button; nothing in read-only mode. */
export function actionInput(
  ctx: ViewContext,
  action: string,
  input: { name: string; label: string; type?: 'text' | 'number'; value?: string; placeholder?: string; list?: string; step?: string },
  button: string,
): SafeHtml {
  if (ctx.readOnly) return html``;
  return html`<form class="action" method="post" action="${action}">${csrfField(ctx)}<label>${input.label}
    <input name="${input.name}" type="${input.type ?? 'text'}" required${input.value !== undefined ? html` value="${input.value}"` : ''}${input.placeholder ? html` placeholder="${input.placeholder}"` : ''}${input.list ? html` list="${input.list}"` : ''}${input.step ? html` step="${input.step}"` : ''}></label>
    <button type="submit" class="btn">${button}</button></form>`;
}

/** Columns {@link jobTable} can show. */
export type JobColumn =
  | 'jid' | 'klass' | 'queue' | 'state' | 'priority' | 'tags' | 'worker' | 'expires' | 'failure' | 'failedAt' | 'put'
  // Of a completed job: the queue it completed in, when, and how long its last run took.
  | 'completedIn' | 'completedAt' | 'ranFor'
  // Of a running job: since its last pop.
  | 'runningFor';

function cell(ctx: ViewContext, job: Job, column: JobColumn): SafeHtml {
  switch (column) {
    case 'jid':
      return jobLink(ctx, job.jid);
    case 'klass':
      return html`<code class="klass">${job.klass}</code>`;
    case 'queue':
      return queueLink(ctx, job.queue);
    case 'state':
      return badge(job.state);
    case 'priority':
      return number(job.priority);
    case 'tags':
      return tagList(ctx, job.tags);
    case 'worker':
      return workerLink(ctx, job.worker);
    case 'expires':
      return time(ctx, job.expires);
    case 'failure':
      return job.failure
        ? html`${groupLink(ctx, job.failure.group)}<div class="excerpt">${firstLine(job.failure.message)}</div>`
        : html`<span class="muted">—</span>`;
    case 'failedAt':
      return job.failure ? time(ctx, job.failure.when) : html`<span class="muted">—</span>`;
    case 'put': {
      const put = [...job.history].reverse().find((entry) => entry.what === 'put');
      return put ? time(ctx, put.when) : html`<span class="muted">—</span>`;
    }
    case 'completedIn':
      return queueLink(ctx, completion(job).queue ?? '');
    case 'completedAt': {
      const at = completion(job).completedAt;
      return at === null ? html`<span class="muted">—</span>` : time(ctx, at);
    }
    case 'ranFor': {
      const ran = completion(job).ranFor;
      return ran === null ? html`<span class="muted">—</span>` : html`<span class="num">${duration(ran)}</span>`;
    }
    case 'runningFor': {
      const running = runningFor(job, ctx.now);
      return running === null ? html`<span class="muted">—</span>` : html`<span class="num">${duration(running)}</span>`;
    }
  }
}

const HEADINGS: Readonly<Record<JobColumn, string>> = {
  jid: 'Job',
  klass: 'Klass',
  queue: 'Queue',
  state: 'State',
  priority: 'Priority',
  tags: 'Tags',
  worker: 'Worker',
  expires: 'Lock expires',
  failure: 'Failure',
  failedAt: 'Failed',
  put: 'Put',
  completedIn: 'Queue',
  completedAt: 'Completed',
  ranFor: 'Ran for',
  runningFor: 'Running for',
};

function firstLine(text: string): string {
  const line = text.split('\n', 1)[0] ?? '';
  return line.length > 160 ? `${line.slice(0, 160)}…` : line;
}

/**
 * Row controls of {@link jobTable}: a checkbox per row belonging to the
 * form `form` (outside the table, so that each row can also hold a form of
 * its own), and the row's own buttons.
 */
export interface RowControls {
  form: string;
  buttons: (job: Job) => SafeHtml;
}

/** A table of jobs (scrolls sideways on narrow screens rather than squeezing). */
export function jobTable(ctx: ViewContext, jobs: readonly Job[], columns: readonly JobColumn[], emptyText = 'No jobs.', controls?: RowControls): SafeHtml {
  if (jobs.length === 0) return html`<p class="empty">${emptyText}</p>`;
  const rowControls = controls !== undefined && !ctx.readOnly ? controls : undefined;
  return html`<div class="scroll"><table class="jobs">
    <thead><tr>${rowControls ? html`<th scope="col" aria-label="Select"></th>` : ''}${columns.map((c) => html`<th scope="col">${HEADINGS[c]}</th>`)}${rowControls ? html`<th scope="col">Actions</th>` : ''}</tr></thead>
    <tbody>${jobs.map(
      (job) =>
        html`<tr data-jid="${job.jid}">${rowControls ? html`<td class="col-select"><input type="checkbox" name="jid" value="${job.jid}" form="${rowControls.form}" aria-label="Select ${job.jid}"></td>` : ''}${columns.map((c) => html`<td class="col-${c}">${cell(ctx, job, c)}</td>`)}${rowControls ? html`<td class="col-actions">${rowControls.buttons(job)}</td>` : ''}</tr>`,
    )}</tbody>
  </table></div>`;
}

/** Page navigation: `page` is 1-based; `total` (when known) gives the last page. */
export function pager(path: string, params: Readonly<Record<string, string | number | undefined>>, page: number, pageSize: number, shown: number, total?: number): SafeHtml {
  const last = total === undefined ? undefined : Math.max(1, Math.ceil(total / pageSize));
  const hasNext = last === undefined ? shown >= pageSize : page < last;
  if (page <= 1 && !hasNext) return html``;
  const link = (p: number, label: string, rel: string) => html`<a class="btn btn-plain" rel="${rel}" href="${withQuery(path, { ...params, page: p })}">${label}</a>`;
  return html`<nav class="pager" aria-label="Pages">
    ${page > 1 ? link(page - 1, '← Previous', 'prev') : html`<span></span>`}
    <span class="muted">page ${page}${last === undefined ? '' : ` of ${last}`}</span>
    ${hasNext ? link(page + 1, 'Next →', 'next') : html`<span></span>`}
  </nav>`;
}

/** A 1-based page number from the query (anything odd reads as page 1). */
export function pageOf(query: URLSearchParams): number {
  const n = Number(query.get('page') ?? '1');
  return Number.isInteger(n) && n >= 1 && n <= 1_000_000 ? n : 1;
}

/** A section with a heading. */
export function section(title: HtmlValue, body: HtmlValue, id?: string): SafeHtml {
  return html`<section class="card"${id ? html` id="${id}"` : ''}><h2>${title}</h2>${body}</section>`;
}

/** A definition list of label/value pairs. */
export function fields(rows: ReadonlyArray<readonly [string, HtmlValue]>): SafeHtml {
  return html`<dl class="fields">${rows.map(([label, value]) => html`<dt>${label}</dt><dd>${value}</dd>`)}</dl>`;
}


/**
 * The auto-refresh switch of a page that is not live like the overview (a
 * queue, a job): a link that turns a whole-page reload every
 * `refreshSeconds` on (`?refresh=on`) or off. A reload rather than a live
 * fragment: these pages hold forms, and a reader chooses when they move.
 */
export function autoRefresh(ctx: ViewContext, path: string, query: URLSearchParams): { on: boolean; toggle: SafeHtml } {
  const on = query.get('refresh') === 'on';
  const params: Record<string, string> = {};
  for (const [key, value] of query) if (key !== 'refresh') params[key] = value;
  const target = withQuery(path, on ? params : { ...params, refresh: 'on' });
  const toggle = html`<a class="btn btn-plain refresh-toggle" href="${target}"${on ? html` aria-pressed="true"` : html` aria-pressed="false"`}>${on ? `Auto-refresh every ${ctx.refreshSeconds} s: on` : 'Auto-refresh: off'}</a>`;
  return { on, toggle };
}

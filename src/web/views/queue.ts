/**
 * One queue: its counts, pause/unpause, the wait- and run-time statistics of
 * a chosen UTC day with their histograms, and a paginated list of its jobs
 * in the chosen state.
 */
import { count, day, parseDay } from '../format.js';
import { html } from '../html.js';
import { histogram } from './chart.js';
import { actionButton, autoRefresh, badge, csrfField, jobTable, pageOf, pager, section, type JobColumn } from './components.js';
import { href, withQuery, type PageRequest } from './context.js';
import { recurringRows, recurringTable } from './recurring.js';
import type { Page } from './layout.js';

/** The states a queue lists jobs in, in the order of the tabs. */
export const QUEUE_STATES = ['waiting', 'running', 'stalled', 'scheduled', 'depends', 'recurring'] as const;
export type QueueState = (typeof QUEUE_STATES)[number];

const COLUMNS: Readonly<Record<Exclude<QueueState, 'recurring'>, readonly JobColumn[]>> = {
  waiting: ['jid', 'klass', 'state', 'priority', 'tags', 'put'],
  running: ['jid', 'klass', 'worker', 'runningFor', 'expires', 'priority', 'tags'],
  stalled: ['jid', 'klass', 'priority', 'tags', 'worker', 'expires'],
  scheduled: ['jid', 'klass', 'priority', 'tags', 'put'],
  depends: ['jid', 'klass', 'priority', 'tags', 'put'],
};

function stateOf(text: string | null): QueueState {
  return (QUEUE_STATES as readonly string[]).includes(text ?? '') ? (text as QueueState) : 'waiting';
}

export async function queuePage(r: PageRequest): Promise<Page> {
  const name = r.params[0]!;
  const queue = r.client.queue(name);
  const state = stateOf(r.query.get('state'));
  const page = pageOf(r.query);
  const when = parseDay(r.query.get('day')) ?? r.view.now;
  const offset = (page - 1) * r.pageSize;
  // Counts first: reading them promotes scheduled jobs that are due, so the
  // lists below agree with the numbers above them.
  const counts = await queue.counts();
  const [stats, jids, rate, maxConcurrency] = await Promise.all([
    queue.stats(when),
    queue.jobs[state](offset, r.pageSize),
    queue.rateLimit(),
    queue.maxConcurrency(),
  ]);
  const base = href(r.view, 'queues', name);
  const selectedDay = day(when);

  const list =
    state === 'recurring'
      ? recurringTable(r.view, await recurringRows(r.client, jids))
      : jobTable(r.view, await r.client.jobs.multiget(jids), COLUMNS[state], `No ${state} jobs.`);

  const tabs = html`<nav class="tabs" aria-label="Job states">${QUEUE_STATES.map(
    (s) => html`<a href="${withQuery(base, { state: s, day: r.query.get('day') ?? undefined })}"${s === state ? html` aria-current="page"` : ''}>${s} <span class="count">${count(counts[s])}</span></a>`,
  )}</nav>`;

  const controls = counts.paused
    ? actionButton(r.view, `${base}/unpause`, 'Unpause')
    : actionButton(r.view, `${base}/pause`, 'Pause', { confirm: `Pause queue ${name}? Workers stop getting its jobs.` });

  // The limits on how its jobs start: the rate limit (changed here) and its own throttle.
  const limits = html`<dl class="stats limits">
      <div><dt>Rate limit</dt><dd>${rate === null ? 'none' : `${rate.limit} per ${rate.per}s`}</dd></div>
      <div><dt>At once</dt><dd>${maxConcurrency === null ? 'no limit' : `at most ${maxConcurrency}`}</dd></div>
    </dl>${r.view.readOnly ? '' : html`<form class="action" method="post" action="${base}/rate-limit">${csrfField(r.view)}<label>Rate limit <input name="limit" required placeholder="5/1 or off" value="${rate === null ? '' : `${rate.limit}/${rate.per}`}"></label> <button type="submit" class="btn">Save</button></form>`}`;

  const dayNav = html`<form class="day" method="get" action="${base}">
    <input type="hidden" name="state" value="${state}">
    <a class="btn btn-plain" href="${withQuery(base, { state, day: day(when - 86400) })}" rel="prev" aria-label="Previous day">←</a>
    <label>Day (UTC) <input type="date" name="day" value="${selectedDay}"></label>
    <button type="submit" class="btn">Show</button>
    <a class="btn btn-plain" href="${withQuery(base, { state, day: day(when + 86400) })}" rel="next" aria-label="Next day">→</a>
  </form>`;

  const statsBody = html`${dayNav}
    <dl class="stats">
      <div><dt>Failures</dt><dd>${count(stats.failures)}</dd></div>
      <div><dt>Still failed</dt><dd>${count(stats.failed)}</dd></div>
      <div><dt>Retries</dt><dd>${count(stats.retries)}</dd></div>
    </dl>
    <div class="charts">${histogram('Wait time', stats.wait)}${histogram('Run time', stats.run)}</div>`;

  const refresh = autoRefresh(r.view, base, r.query);
  return {
    title: `Queue ${name}`,
    section: 'queues',
    reload: refresh.on,
    body: html`<h1>Queue <span class="name">${name}</span> ${counts.paused ? badge('paused') : ''}</h1>
      <div class="toolbar">${controls}${refresh.toggle}</div>
      ${section('Limits', limits, 'limits')}
      ${section(`Statistics for ${selectedDay}`, statsBody, 'stats')}
      ${section('Jobs', html`${tabs}${list}${pager(base, { state, day: r.query.get('day') ?? undefined }, page, r.pageSize, jids.length, counts[state])}`, 'jobs')}`,
  };
}

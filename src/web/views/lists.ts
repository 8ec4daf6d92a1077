/**
 * The two plain job lists: tracked jobs (plus tracked jids whose job is
 * gone) and completed jobs, most recent first.
 */
import { html } from '../html.js';
import { jobTable, pageOf, pager, section } from './components.js';
import { href, type PageRequest } from './context.js';
import type { Page } from './layout.js';

export async function trackedPage(r: PageRequest): Promise<Page> {
  const { jobs, expired } = await r.client.jobs.tracked();
  return {
    title: 'Tracked jobs',
    section: 'tracked',
    body: html`<h1>Tracked jobs</h1>
      ${section(html`Jobs <span class="muted">${jobs.length}</span>`, jobTable(r.view, jobs, ['jid', 'klass', 'queue', 'state', 'worker', 'tags'], 'No tracked jobs. Track one from its page.'))}
      ${expired.length > 0 ? section('Gone', html`<p class="muted">Tracked, but the job no longer exists:</p><ul class="links">${expired.map((jid) => html`<li><code>${jid}</code></li>`)}</ul>`) : ''}`,
  };
}

export async function completedPage(r: PageRequest): Promise<Page> {
  const page = pageOf(r.query);
  const jids = await r.client.jobs.complete((page - 1) * r.pageSize, r.pageSize);
  const jobs = await r.client.jobs.multiget(jids);
  return {
    title: 'Completed jobs',
    section: 'completed',
    body: html`<h1>Completed jobs</h1>
      ${section('Most recent first', html`${jobTable(r.view, jobs, ['jid', 'klass', 'completedIn', 'completedAt', 'ranFor', 'tags'], 'No completed jobs kept.')}${pager(href(r.view, 'completed'), {}, page, r.pageSize, jids.length)}`)}`,
  };
}

/**
 * Tags: the most used tags (the core lists those on two jobs or more), and
 * the jobs carrying one tag, oldest tagging first, paginated.
 */
import { html } from '../html.js';
import { jobTable, pageOf, pager, section, tagLink } from './components.js';
import { href, type PageRequest } from './context.js';
import type { Page } from './layout.js';

export async function tagsPage(r: PageRequest): Promise<Page> {
  const page = pageOf(r.query);
  const tags = await r.client.tags((page - 1) * r.pageSize * 4, r.pageSize * 4);
  const list =
    tags.length === 0
      ? html`<p class="empty">No tag is on two jobs or more. Find a single job's tag with the search box.</p>`
      : html`<ol class="tag-cloud">${tags.map((tag) => html`<li>${tagLink(r.view, tag)}</li>`)}</ol>`;
  return {
    title: 'Tags',
    section: 'tags',
    body: html`<h1>Tags</h1>${section('Most used', html`${list}${pager(href(r.view, 'tags'), {}, page, r.pageSize * 4, tags.length)}`)}`,
  };
}

export async function tagPage(r: PageRequest): Promise<Page> {
  const tag = r.params[0]!;
  const page = pageOf(r.query);
  const { total, jids } = await r.client.jobs.tagged(tag, (page - 1) * r.pageSize, r.pageSize);
  const jobs = await r.client.jobs.multiget(jids);
  return {
    title: `Tag ${tag}`,
    section: 'tags',
    body: html`<h1>Tag <span class="name">${tag}</span> <span class="muted">${total}</span></h1>
      ${section('Jobs', html`${jobTable(r.view, jobs, ['jid', 'klass', 'queue', 'state', 'priority', 'tags'], 'No jobs carry this tag.')}${pager(href(r.view, 'tags', tag), {}, page, r.pageSize, jids.length, total)}`)}`,
  };
}

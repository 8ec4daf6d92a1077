/**
 * Tags: the most used tags (the core lists those on two jobs or more) with
 * how many jobs carry each, and the jobs carrying one tag, most recent
 * tagging first (the live jobs, not last week's), paginated.
 */
import { count } from '../format.js';
import { html } from '../html.js';
import { jobTable, pageOf, pager, section, tagLink } from './components.js';
import { href, type PageRequest } from './context.js';
import type { Page } from './layout.js';

/** How many jobs carry each tag (one small read per tag, sent together). */
async function tagCounts(r: PageRequest, tags: readonly string[]): Promise<Array<{ tag: string; total: number }>> {
  const pages = await Promise.all(tags.map((tag) => r.client.jobs.tagged(tag, 0, 1)));
  return tags.map((tag, i) => ({ tag, total: pages[i]!.total }));
}

/**
 * A page of a tag's jids, most recent tagging first. The core keeps them
 * oldest first, so the page is taken from the end of its order: the size
 * comes with a first read, then the slice that page covers, reversed.
 */
async function newestFirst(r: PageRequest, tag: string, page: number): Promise<{ total: number; jids: string[] }> {
  const { total } = await r.client.jobs.tagged(tag, 0, 1);
  const end = total - (page - 1) * r.pageSize;
  if (end <= 0) return { total, jids: [] };
  const start = Math.max(0, end - r.pageSize);
  const { jids } = await r.client.jobs.tagged(tag, start, end - start);
  return { total, jids: [...jids].reverse() };
}

export async function tagsPage(r: PageRequest): Promise<Page> {
  const page = pageOf(r.query);
  const tags = await r.client.tags((page - 1) * r.pageSize * 4, r.pageSize * 4);
  const list =
    tags.length === 0
      ? html`<p class="empty">No tag is on two jobs or more. Find a single job's tag with the search box.</p>`
      : html`<ol class="tag-cloud">${(await tagCounts(r, tags)).map(({ tag, total }) => html`<li>${tagLink(r.view, tag)} <span class="count">${count(total)}</span></li>`)}</ol>`;
  return {
    title: 'Tags',
    section: 'tags',
    body: html`<h1>Tags</h1>${section('Most used', html`${list}${pager(href(r.view, 'tags'), {}, page, r.pageSize * 4, tags.length)}`)}`,
  };
}

export async function tagPage(r: PageRequest): Promise<Page> {
  const tag = r.params[0]!;
  const page = pageOf(r.query);
  const { total, jids } = await newestFirst(r, tag, page);
  const jobs = await r.client.jobs.multiget(jids);
  return {
    title: `Tag ${tag}`,
    section: 'tags',
    body: html`<h1>Tag <span class="name">${tag}</span> <span class="muted">${total}</span></h1>
      ${section('Jobs, most recently tagged first', html`${jobTable(r.view, jobs, ['jid', 'klass', 'queue', 'state', 'priority', 'tags'], 'No jobs carry this tag.')}${pager(href(r.view, 'tags', tag), {}, page, r.pageSize, jids.length, total)}`)}`,
  };
}

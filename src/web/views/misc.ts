/**
 * Small pages: not found, errors, the token sign-in form, and the search
 * box's results and "nothing found".
 */
import { html } from '../html.js';
import type { SearchResults } from '../search.js';
import { csrfField, jobLink, jobTable, queueLink, section } from './components.js';
import { href, type ViewContext } from './context.js';
import type { Page } from './layout.js';

export function notFoundPage(what = 'This page does not exist.'): Page {
  return { title: 'Not found', section: 'none', status: 404, body: html`<h1>Not found</h1><p>${what}</p>` };
}

export function errorPage(status: number, message: string): Page {
  const title = status === 503 ? 'Redis is not answering' : status >= 500 ? 'Something went wrong' : 'Request refused';
  return { title, section: 'none', status, body: html`<h1>${title}</h1><p class="message">${message}</p>` };
}

export function searchMissPage(ctx: ViewContext, query: string): Page {
  return {
    title: 'Nothing found',
    section: 'none',
    status: 404,
    body: html`<h1>Nothing found</h1><p>No job, queue or tag is called <code>${query}</code>, and no queue name, jid or klass name starts with or contains it.</p><p><a href="${ctx.base}/">Back to the overview</a></p>`,
  };
}

/** What a search found when the text named nothing exactly (see search.ts). */
export function searchResultsPage(ctx: ViewContext, query: string, found: SearchResults): Page {
  const queues = found.queues.length > 0 ? section('Queues', html`<ul class="links">${found.queues.map((q) => html`<li>${queueLink(ctx, q)}</li>`)}</ul>`) : '';
  const byJid =
    found.byJid.length > 0 || found.partial
      ? section(html`Jobs whose jid starts with <code>${query}</code>`, html`${jobTable(ctx, found.byJid, ['jid', 'klass', 'queue', 'state', 'tags'], 'None found so far.')}${found.partial ? html`<p class="muted">The search looked at part of the keys only; give a longer prefix to be sure.</p>` : ''}`)
      : '';
  const byKlass = found.byKlass.length > 0 ? section(html`Jobs whose klass contains <code>${query}</code>`, html`${jobTable(ctx, found.byKlass, ['jid', 'klass', 'queue', 'state', 'tags'])}<p class="muted">Among the first jobs of each queue's lists and of each failure group.</p>`) : '';
  const recurring = found.recurring.length > 0 ? section('Recurring jobs', html`<ul class="links">${found.recurring.map((job) => html`<li>${jobLink(ctx, job.jid)} <code class="klass">${job.klass}</code> in ${queueLink(ctx, job.queue)}</li>`)}</ul>`) : '';
  return { title: `Search: ${query}`, section: 'none', body: html`<h1>Search <span class="name">${query}</span></h1>${queues}${byJid}${byKlass}${recurring}` };
}

/** Whether a search found anything at all. */
export function foundAnything(found: SearchResults): boolean {
  return found.queues.length + found.byJid.length + found.byKlass.length + found.recurring.length > 0 || found.partial;
}

/** The sign-in form of token authentication; `next` is where to go afterwards. */
export function loginPage(ctx: ViewContext, next: string, failed: boolean): Page {
  return {
    title: 'Sign in',
    section: 'none',
    status: 401,
    body: html`<section class="card login"><h1>Sign in</h1>
      ${failed ? html`<p class="flash flash-error" role="alert">That token is not right.</p>` : ''}
      <form method="post" action="${href(ctx, 'login')}">${csrfField(ctx)}<input type="hidden" name="next" value="${next}">
        <label>Access token <input type="password" name="token" autocomplete="current-password" required autofocus></label>
        <button type="submit" class="btn">Sign in</button>
      </form></section>`,
  };
}

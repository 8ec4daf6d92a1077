/**
 * Small pages: not found, errors, the token sign-in form, and the search
 * box's "nothing found".
 */
import { html } from '../html.js';
import { csrfField } from './components.js';
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
    body: html`<h1>Nothing found</h1><p>No job, recurring job or tag is called <code>${query}</code>.</p><p><a href="${ctx.base}/">Back to the overview</a></p>`,
  };
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

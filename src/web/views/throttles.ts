/**
 * Throttles: every named limit (and each queue's own, `ql:q:<queue>`) with
 * its maximum, expiry, the jobs holding a slot and those parked until one
 * frees; a form to set a limit and a button per row to delete it.
 */
import { html } from '../html.js';
import { actionButton, csrfField, jobLink, number, section } from './components.js';
import { href, type PageRequest, type ViewContext } from './context.js';
import type { Page } from './layout.js';
import type { ThrottleSummary } from '../../throttles.js';

/** Jids shown per cell; the rest are counted. */
const SHOWN = 10;

function jobs(ctx: ViewContext, jids: readonly string[]): ReturnType<typeof html> {
  if (jids.length === 0) return html`<span class="muted">—</span>`;
  const more = jids.length - SHOWN;
  return html`${jids.slice(0, SHOWN).map((jid, i) => html`${i > 0 ? ', ' : ''}${jobLink(ctx, jid)}`)}${more > 0 ? html` and ${more} more` : ''}`;
}

function throttleTable(ctx: ViewContext, throttles: readonly ThrottleSummary[]): ReturnType<typeof html> {
  if (throttles.length === 0) return html`<p class="empty">No throttles.</p>`;
  const base = href(ctx, 'throttles');
  return html`<div class="scroll"><table class="throttles">
    <thead><tr><th scope="col">Throttle</th><th scope="col" class="n">Maximum</th><th scope="col">Expires in</th><th scope="col" class="n">Running</th><th scope="col">Holders</th><th scope="col" class="n">Waiting</th><th scope="col">Parked</th>${ctx.readOnly ? '' : html`<th scope="col"><span class="sr">Actions</span></th>`}</tr></thead>
    <tbody>${throttles.map(
      (t) => html`<tr data-throttle="${t.id}"><th scope="row"><code>${t.id}</code></th>
        <td class="n">${t.maximum > 0 ? number(t.maximum) : html`<span class="muted">none</span>`}</td>
        <td>${t.ttl >= 0 ? `${t.ttl}s` : html`<span class="muted">—</span>`}</td>
        <td class="n">${number(t.locks.length)}</td><td>${jobs(ctx, t.locks)}</td>
        <td class="n">${number(t.pending.length)}</td><td>${jobs(ctx, t.pending)}</td>
        ${ctx.readOnly ? '' : html`<td>${t.ttl === -2 ? '' : actionButton(ctx, `${base}/delete`, 'Delete', { fields: { name: t.id }, kind: 'danger', confirm: `Remove the limit of ${t.id}? Its jobs may then all run at once.`, name: `Delete ${t.id}` })}</td>`}</tr>`,
    )}</tbody>
  </table></div>`;
}

export async function throttlesPage(r: PageRequest): Promise<Page> {
  const throttles = await r.client.throttles.list();
  const action = href(r.view, 'throttles');
  const form = r.view.readOnly
    ? ''
    : section(
        'Set a limit',
        html`<form class="action" method="post" action="${action}">${csrfField(r.view)}
          <label>Throttle <input name="name" required placeholder="e.g. stripe-api or ql:q:myqueue"></label>
          <label>Maximum <input name="maximum" type="number" min="0" step="1" required></label>
          <label>Expires after (seconds, optional) <input name="expiration" type="number" min="0"></label>
          <button type="submit" class="btn">Set</button></form>`,
      );
  return {
    title: 'Throttles',
    section: 'throttles',
    body: html`<h1>Throttles</h1>
      <p class="muted">Jobs name the throttles they need when they are put; a queue's own limit is the throttle <code>ql:q:&lt;queue&gt;</code>. Maximum none: no limit.</p>
      ${section('Limits', throttleTable(r.view, throttles))}${form}`,
  };
}

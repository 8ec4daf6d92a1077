/**
 * The core's configuration: every option with its value (stored, else the
 * built-in default), a form per option to change or unset it, and one to
 * set a new option (e.g. `<queue>-heartbeat`).
 */
import { html } from '../html.js';
import { actionButton, csrfField, section } from './components.js';
import { href, type PageRequest } from './context.js';
import type { Page } from './layout.js';

export async function configPage(r: PageRequest): Promise<Page> {
  const all = await r.client.config.all();
  const action = href(r.view, 'config');
  const rows = Object.entries(all).sort(([a], [b]) => a.localeCompare(b));
  const table = html`<div class="scroll"><table class="config">
    <thead><tr><th scope="col">Option</th><th scope="col">Value</th>${r.view.readOnly ? '' : html`<th scope="col"><span class="sr">Actions</span></th>`}</tr></thead>
    <tbody>${rows.map(
      ([option, value]) => html`<tr data-option="${option}"><th scope="row"><code>${option}</code></th>
        <td>${r.view.readOnly
          ? html`<code>${String(value)}</code>`
          : html`<form class="inline" method="post" action="${action}">${csrfField(r.view)}<input type="hidden" name="option" value="${option}"><input name="value" value="${String(value)}" aria-label="Value of ${option}"> <button type="submit" class="btn">Save</button></form>`}</td>
        ${r.view.readOnly ? '' : html`<td>${actionButton(r.view, `${action}/unset`, 'Unset', { fields: { option }, kind: 'plain', title: `Unset ${option}`, name: `Unset ${option}` })}</td>`}</tr>`,
    )}</tbody>
  </table></div>`;
  const add = r.view.readOnly
    ? ''
    : section(
        'Set an option',
        html`<form class="action" method="post" action="${action}">${csrfField(r.view)}
          <label>Option <input name="option" required placeholder="e.g. myqueue-heartbeat"></label>
          <label>Value <input name="value" required></label>
          <button type="submit" class="btn">Set</button></form>`,
      );
  return { title: 'Config', section: 'config', body: html`<h1>Config</h1>${section('Options', table)}${add}` };
}

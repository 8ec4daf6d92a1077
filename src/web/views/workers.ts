/**
 * Workers: every worker the core knows, and one worker's running and
 * stalled jobs (a stalled job's lock expired without a pop noticing yet).
 */
import { html } from '../html.js';
import { actionButton, jobTable, section, time } from './components.js';
import { href, type PageRequest } from './context.js';
import { workerTable } from './overview.js';
import type { Page } from './layout.js';

export async function workersPage(r: PageRequest): Promise<Page> {
  const workers = await r.client.workers.counts();
  return { title: 'Workers', section: 'workers', body: html`<h1>Workers</h1>${section('Seen lately', workerTable(r.view, workers, { forget: true }))}` };
}

export async function workerPage(r: PageRequest): Promise<Page> {
  const name = r.params[0]!;
  const [held, listing] = await Promise.all([r.client.workers.get(name), r.client.workers.counts()]);
  const listed = listing.find((w) => w.name === name);
  const [running, stalled] = await Promise.all([r.client.jobs.multiget(held.jobs), r.client.jobs.multiget(held.stalled)]);
  const known = listed !== undefined && listed.lastSeen !== null
    ? html`<p class="seen">Last seen ${time(r.view, listed.lastSeen)} ${actionButton(r.view, href(r.view, 'workers', name, 'forget'), 'Forget', { kind: 'plain', name: `Forget worker ${name}`, confirm: `Forget worker ${name}?` })}</p>`
    : html`<p class="empty">The core does not list this worker (it was forgotten, or has not been seen for max-worker-age).</p>`;
  return {
    title: `Worker ${name}`,
    section: 'workers',
    body: html`<h1>Worker <span class="name">${name}</span></h1>${known}
      ${section(html`Running <span class="muted">${running.length}</span>`, jobTable(r.view, running, ['jid', 'klass', 'queue', 'priority', 'tags', 'progress', 'expires'], 'No running jobs.'), 'running')}
      ${section(html`Stalled <span class="muted">${stalled.length}</span>`, jobTable(r.view, stalled, ['jid', 'klass', 'queue', 'priority', 'tags', 'expires'], 'No stalled jobs.'), 'stalled')}`,
  };
}

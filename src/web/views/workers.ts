/**
 * Workers: every worker the core knows, and one worker's running and
 * stalled jobs (a stalled job's lock expired without a pop noticing yet).
 */
import { html } from '../html.js';
import { jobTable, section } from './components.js';
import type { PageRequest } from './context.js';
import { workerTable } from './overview.js';
import type { Page } from './layout.js';

export async function workersPage(r: PageRequest): Promise<Page> {
  const workers = await r.client.workers.counts();
  return { title: 'Workers', section: 'workers', body: html`<h1>Workers</h1>${section('Seen lately', workerTable(r.view, workers))}` };
}

export async function workerPage(r: PageRequest): Promise<Page> {
  const name = r.params[0]!;
  const held = await r.client.workers.get(name);
  const [running, stalled] = await Promise.all([r.client.jobs.multiget(held.jobs), r.client.jobs.multiget(held.stalled)]);
  return {
    title: `Worker ${name}`,
    section: 'workers',
    body: html`<h1>Worker <span class="name">${name}</span></h1>
      ${section(html`Running <span class="muted">${running.length}</span>`, jobTable(r.view, running, ['jid', 'klass', 'queue', 'priority', 'tags', 'expires'], 'No running jobs.'), 'running')}
      ${section(html`Stalled <span class="muted">${stalled.length}</span>`, jobTable(r.view, stalled, ['jid', 'klass', 'queue', 'priority', 'tags', 'expires'], 'No stalled jobs.'), 'stalled')}`,
  };
}

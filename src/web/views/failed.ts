/**
 * Failures: the groups with their sizes, and one group's jobs (newest
 * failure first, paginated) with "retry all" and "cancel all", a retry and
 * a cancel button per row, and both for the rows checked.
 */
import { html } from '../html.js';
import { failedJids } from '../data.js';
import { actionButton, csrfField, jobTable, pageOf, pager, section } from './components.js';
import { href, type PageRequest } from './context.js';
import { failureTable } from './overview.js';
import type { Page } from './layout.js';

export async function failedPage(r: PageRequest): Promise<Page> {
  const groups = await r.client.jobs.failed();
  return { title: 'Failed jobs', section: 'failed', body: html`<h1>Failed jobs</h1>${section('Groups', failureTable(r.view, groups))}` };
}

export async function failedGroupPage(r: PageRequest): Promise<Page> {
  const group = r.params[0]!;
  const page = pageOf(r.query);
  const { total, jids } = await failedJids(r.client, group, (page - 1) * r.pageSize, r.pageSize);
  const jobs = await r.client.jobs.multiget(jids);
  const base = href(r.view, 'failed', group);
  const actions =
    total > 0
      ? html`<div class="toolbar">
          ${actionButton(r.view, `${base}/retry`, `Retry all ${total}`, { confirm: `Put all ${total} jobs of ${group} back into their queues?` })}
          ${actionButton(r.view, `${base}/cancel`, `Cancel all ${total}`, { kind: 'danger', confirm: `Cancel (delete) all ${total} jobs of ${group}?` })}
        </div>`
      : '';
  // Every row's buttons and the checked rows post to the same action, with `jid` fields and `do`.
  const selected = `${base}/selected`;
  const rowButtons = (job: { jid: string }) => html`${actionButton(r.view, selected, 'Retry', { fields: { jid: job.jid, do: 'retry' }, kind: 'plain', name: `Retry ${job.jid}` })}${actionButton(r.view, selected, 'Cancel', { fields: { jid: job.jid, do: 'cancel' }, kind: 'plain', name: `Cancel ${job.jid}`, confirm: `Cancel (delete) job ${job.jid}?` })}`;
  const selection =
    jobs.length > 0 && !r.view.readOnly
      ? html`<form id="selected-jobs" class="toolbar" method="post" action="${selected}" data-confirm="Act on the selected jobs of ${group}?">${csrfField(r.view)}
          <span class="muted">Selected rows:</span>
          <button type="submit" class="btn" name="do" value="retry">Retry selected</button>
          <button type="submit" class="btn btn-danger" name="do" value="cancel">Cancel selected</button>
        </form>`
      : '';
  return {
    title: `Failed: ${group}`,
    section: 'failed',
    body: html`<h1>Failed <span class="name">${group}</span> <span class="muted">${total}</span></h1>
      ${actions}
      ${section('Jobs', html`${selection}${jobTable(r.view, jobs, ['jid', 'klass', 'queue', 'failure', 'failedAt', 'tags'], 'No jobs in this group.', { form: 'selected-jobs', buttons: rowButtons })}${pager(base, {}, page, r.pageSize, jids.length, total)}`)}`,
  };
}

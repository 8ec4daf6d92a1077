/**
 * Reads the pages and actions need beyond single library calls: recurring
 * templates by jid in one round trip, and a failure group's page of jids
 * including those whose job is gone (the library's page leaves them out,
 * and "retry all" must step over them).
 */
import { RecurringJob } from '../recurring.js';
import * as wire from '../wire.js';
import type { Client } from '../client.js';

/** The recurring templates of these jids, in one round trip (missing ones left out). */
export async function recurringOf(client: Client, jids: readonly string[]): Promise<RecurringJob[]> {
  if (jids.length === 0) return [];
  const outcomes = await client.callMany(jids.map((jid) => ({ command: 'recur.get', args: [jid] })));
  const templates: RecurringJob[] = [];
  for (const outcome of outcomes) {
    if (!outcome.ok || outcome.reply === null) continue;
    templates.push(new RecurringJob(client, wire.recurringRecord('recur.get', wire.json('recur.get', outcome.reply))));
  }
  return templates;
}

/** Every jid of a failure group page, plus the group's size (the library's page drops missing jobs). */
export async function failedJids(client: Client, group: string, offset: number, count: number): Promise<{ total: number; jids: string[] }> {
  return wire.jidPage('failed', await client.call('failed', group, offset, count));
}

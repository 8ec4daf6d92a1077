/**
 * The dashboard's Throttles page and the queue page's limits, over plain
 * HTTP (no browser): what they show, and that their forms change Redis as
 * they say (through the client library), with the CSRF token of the page.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { useRedis } from './support/redis.js';
import { serveDashboard, Session, type ServedDashboard } from './support/web.js';

const ctx = useRedis();
let served: ServedDashboard | undefined;
afterEach(async () => {
  await served?.close();
  served = undefined;
});

async function open(): Promise<{ served: ServedDashboard; session: Session }> {
  served = await serveDashboard(ctx);
  return { served, session: new Session(served.origin) };
}

describe('dashboard: throttles', () => {
  it('lists each throttle with its maximum, holders and parked jobs', async () => {
    const { served: s, session } = await open();
    await s.client.throttles.set('stripe-api', 1);
    const queue = s.client.queue('billing');
    const first = await queue.put('Charge', {}, { throttles: ['stripe-api'] });
    await queue.pop();
    const second = await queue.put('Charge', {}, { throttles: ['stripe-api'] });
    const { html } = await session.page('/throttles');
    const row = /<tr data-throttle="stripe-api">[\s\S]*?<\/tr>/.exec(html)?.[0] ?? '';
    expect(row).toContain('<span class="num">1</span>');
    expect(row).toContain(`/jobs/${first}`);
    expect(row).toContain(`/jobs/${second}`);
    expect(html).toContain('data-throttle="ql:q:billing"');
    const page = await session.page(`/jobs/${second}`);
    expect(page.html).toContain('<code>stripe-api</code>, <code>ql:q:billing</code>');
  });

  it('sets and deletes a limit', async () => {
    const { served: s, session } = await open();
    const { csrf } = await session.page('/throttles');
    const set = await session.post('/throttles', { _csrf: csrf!, name: 'api', maximum: '3', expiration: '' });
    expect(set.status).toBe(303);
    expect(await s.client.throttles.get('api')).toEqual({ id: 'api', maximum: 3, ttl: -1 });
    const bad = await session.post('/throttles', { _csrf: csrf!, name: 'api', maximum: '-1', expiration: '' });
    expect(bad.status).toBe(303);
    expect((await session.page('/throttles')).html).toContain('Nothing was changed');
    expect((await s.client.throttles.get('api')).maximum).toBe(3);
    await session.post('/throttles/delete', { _csrf: csrf!, name: 'api' });
    expect((await s.client.throttles.get('api')).ttl).toBe(-2);
  });

  it('the queue page shows and changes the rate limit', async () => {
    const { served: s, session } = await open();
    await s.client.queue('q').put('K', {});
    await s.client.queue('q').setRateLimit(5, 1);
    const { html, csrf } = await session.page('/queues/q');
    expect(html).toContain('<dt>Rate limit</dt><dd>5 per 1s</dd>');
    await session.post('/queues/q/rate-limit', { _csrf: csrf!, limit: '10/60' });
    expect(await s.client.queue('q').rateLimit()).toEqual({ limit: 10, per: 60 });
    await session.post('/queues/q/rate-limit', { _csrf: csrf!, limit: 'often' });
    expect(await s.client.queue('q').rateLimit()).toEqual({ limit: 10, per: 60 });
    await session.post('/queues/q/rate-limit', { _csrf: csrf!, limit: 'off' });
    expect(await s.client.queue('q').rateLimit()).toBeNull();
  });
});

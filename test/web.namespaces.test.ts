/**
 * The dashboard given several namespaces: the first at the root, each at
 * `/n/<name>/` too, a switch in the header, and every page and action
 * acting in the namespace of its URL.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import * as qless from '../src/index.js';
import { useRedis } from './support/redis.js';
import { serveDashboard, Session, type ServedDashboard } from './support/web.js';

const ctx = useRedis();
let served: ServedDashboard;
const clients: qless.Client[] = [];
const inNamespace = (namespace?: string): qless.Client => {
  const client = qless.client(ctx.url, { namespace, workerName: 'test' });
  clients.push(client);
  return client;
};

beforeAll(async () => {
  served = await serveDashboard(ctx, { namespaces: ['orders', 'billing', ''] });
});
afterAll(async () => {
  await served.close();
});
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
});

describe('dashboard namespaces', () => {
  it('shows each namespace\'s own queues, and links between them', async () => {
    await inNamespace('orders').queue('ship').put('app.Job', {});
    await inNamespace('billing').queue('invoice').put('app.Job', {});
    await inNamespace().queue('legacy').put('app.Job', {});
    const session = new Session(served.origin);

    const root = await session.page('/queues');
    expect(root.res.status).toBe(200);
    expect(root.html).toContain('ship');
    expect(root.html).not.toContain('invoice');
    // The switch: every namespace's home, the current one marked.
    expect(root.html).toContain('aria-label="Namespaces"');
    expect(root.html).toMatch(/<a href="\/"\s+aria-current="true">orders<\/a>/);
    expect(root.html).toContain('<a href="/n/billing/">billing</a>');
    expect(root.html).toContain('<a href="/n/-/">default</a>');

    const billing = await session.page('/n/billing/queues');
    expect(billing.res.status).toBe(200);
    expect(billing.html).toContain('invoice');
    expect(billing.html).not.toContain('ship');
    // Its own links stay in the namespace.
    expect(billing.html).toContain('href="/n/billing/queues/invoice"');
    expect(billing.html).toMatch(/<a href="\/n\/billing\/"\s+aria-current="true">billing<\/a>/);

    const legacy = await session.page('/n/-/queues');
    expect(legacy.html).toContain('legacy');
    expect(legacy.html).not.toContain('invoice');

    expect((await session.fetch('/n/unknown/queues')).status).toBe(404);
  });

  it('acts in the namespace of the page', async () => {
    const billing = inNamespace('billing');
    const orders = inNamespace('orders');
    await billing.queue('same').put('app.Job', {});
    await orders.queue('same').put('app.Job', {});
    const session = new Session(served.origin);
    const page = await session.page('/n/billing/queues/same');
    const res = await session.fetch('/n/billing/queues/same/pause', {
      method: 'POST',
      body: new URLSearchParams({ _csrf: page.csrf! }),
      headers: { origin: served.origin, 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toMatch(/^\/n\/billing\//);
    expect((await billing.queue('same').counts()).paused).toBe(true);
    expect((await orders.queue('same').counts()).paused).toBe(false);
  });
});

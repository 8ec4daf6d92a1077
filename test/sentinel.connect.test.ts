/**
 * The client through a real Sentinel deployment started by the test (one
 * primary, one replica, three Sentinels, loopback only): connecting by URL
 * and by ioredis options, the binaries' `--host`, durable writes confirmed
 * by the replica (and refused while it lags), a failover with the core gone
 * from the new primary, pub/sub following it, and a primary demoted under a
 * connected client.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import * as qless from '../src/index.js';
import { run, ROOT } from './support/cli.js';
import { SentinelDeployment } from './support/sentinel.js';

const deployments: SentinelDeployment[] = [];
const clients: qless.Client[] = [];

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close().catch(() => undefined)));
  await Promise.all(deployments.splice(0).map((d) => d.stop()));
});

async function deployment(): Promise<SentinelDeployment> {
  const started = await SentinelDeployment.start({ downAfterMs: 1000, failoverTimeoutMs: 4000 });
  deployments.push(started);
  return started;
}

/** A client that waits out a failover instead of failing its calls. */
function open(url: string, options: qless.ClientOptions = {}): qless.Client {
  const c = qless.client(url, { workerName: 'w', maxRetriesPerRequest: null, retryStrategy: (n) => Math.min(50 * n, 500), ...options });
  clients.push(c);
  return c;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('through Sentinel', () => {
  it('connects by a redis+sentinel:// URL (with a database) and by the ioredis options form', async () => {
    const d = await deployment();
    const byUrl = open(`${d.url}/3`);
    await byUrl.queue('q').put('a.B', {}, { jid: 'in-db-3' });
    const direct = d.direct(await d.primaryPort());
    try {
      await direct.select(3);
      expect(await direct.exists('ql:j:in-db-3')).toBe(1);
    } finally {
      direct.disconnect();
    }
    const byOptions = qless.client({ sentinels: d.sentinelAddresses, name: d.name, db: 3, workerName: 'w' });
    clients.push(byOptions);
    expect((await byOptions.queue('q').pop())?.jid).toBe('in-db-3');
  });

  it('is accepted as --host by qless-ts and qless-ts-web', async () => {
    const d = await deployment();
    await open(d.url).queue('gnomes').put('a.B', {});
    const cli = await run(['queues', '--json', '--host', d.url]);
    expect(cli.code, cli.stderr).toBe(0);
    expect(JSON.parse(cli.stdout)).toMatchObject([{ name: 'gnomes', waiting: 1 }]);
    const bad = await run(['queues', '--host', d.url.replace('redis+sentinel', 'redis+cluster')]);
    // The same hosts as a cluster URL: a cluster has no master name (nor databases) in its path.
    expect([bad.code, bad.stderr]).toEqual([2, expect.stringContaining('but a Redis Cluster has no databases') as unknown]);

    const web = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src', 'cli', 'web.ts'), '--host', d.url, '--http-port', '0'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const address = await new Promise<string>((resolve, reject) => {
        let out = '';
        web.stdout.setEncoding('utf8').on('data', (chunk: string) => {
          out += chunk;
          const match = /serving (http:\/\/\S+) for (\S+)/.exec(out);
          if (match) resolve(match[1]!);
        });
        web.once('exit', (code) => reject(new Error(`qless-ts-web exited with ${code}`)));
      });
      const page = await fetch(`${address}queues`);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('gnomes');
    } finally {
      web.kill('SIGTERM');
    }
  });

  it('has durable writes confirmed by the replica, and refused while it cannot confirm them', async () => {
    const d = await deployment();
    // A generous timeout: on a loaded machine the replica may take a while to load the core library.
    const c = open(d.url, { durability: { replicas: 1, timeoutMs: 1000 } });
    await c.queue('q').put('a.B', {}, { jid: 'confirmed' });
    const job = (await c.queue('q').pop())!;
    await job.complete();

    const replica = d.nodes.find((n) => n.port !== d.nodes[0]!.port)!;
    await d.signal(replica, 'SIGSTOP'); // a replica that stops acknowledging
    try {
      const error = await c.queue('q').put('a.B', {}, { jid: 'lagging' }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(qless.DurabilityError);
      expect((error as qless.DurabilityError).acknowledged).toBe(0);
      expect((await c.jobs.get('lagging'))?.state).toBe('waiting'); // applied on the primary all the same
    } finally {
      await d.signal(replica, 'SIGCONT');
    }
    await c.queue('q').put('a.B', {}, { jid: 'caught-up' });
    const replicaView = d.direct(replica.port);
    try {
      expect(await replicaView.exists('ql:j:confirmed', 'ql:j:lagging', 'ql:j:caught-up')).toBe(3);
    } finally {
      replicaView.disconnect();
    }
  });

  it('follows a failover: reconnects, loads the core on a new primary that lacks it, and keeps its subscriptions', async () => {
    const d = await deployment();
    const c = open(d.url);
    const puts: string[] = [];
    c.events.on('log', (event) => {
      if (event.event === 'put') puts.push(event.jid);
    });
    await c.events.listen();
    await c.queue('q').put('a.B', {}, { jid: 'before' });
    expect(c.gateway.via).toBe('function');

    const old = await d.primaryPort();
    // Replication is asynchronous: make sure the replica has 'before' (it is not what this test is about).
    const oldPrimary = d.direct(old);
    try {
      expect(await oldPrimary.wait(1, 5000)).toBe(1);
    } finally {
      oldPrimary.disconnect();
    }
    await d.signal(d.nodeAt(old), 'SIGKILL');
    const promoted = await d.waitForNewPrimary(old);
    // Functions replicate, but the client must not count on it.
    const direct = d.direct(promoted);
    try {
      await direct.function('FLUSH');
      await direct.script('FLUSH');
    } finally {
      direct.disconnect();
    }
    await c.queue('q').put('a.B', {}, { jid: 'after' });
    expect(c.gateway.via).toBe('function');
    expect((await c.queue('q').pop(2)).map((job) => job.jid).sort()).toEqual(['after', 'before']);
    // The subscriber reconnected through the Sentinels too: puts made now are heard.
    for (let i = 0; !puts.includes('later') && i < 100; i++) {
      await c.queue('q').put('a.B', {}, { jid: 'later' });
      await sleep(50);
    }
    expect(puts).toContain('later');
  });

  it('turns READONLY from a demoted primary into a reconnection, and the write is applied once', async () => {
    const d = await deployment();
    const c = open(d.url);
    await c.queue('q').put('a.B', {}, { jid: 'first' });
    const primary = d.direct(await d.primaryPort());
    try {
      // Demote the primary behind the client's back (it follows a primary
      // that does not exist, keeping its data), then restore it a moment later.
      await primary.call('REPLICAOF', '127.0.0.1', '1');
      const put = c.queue('q').put('a.B', {}, { jid: 'second' });
      await sleep(300);
      await primary.call('REPLICAOF', 'NO', 'ONE');
      expect(await put).toBe('second');
    } finally {
      primary.disconnect();
    }
    const second = await c.jobs.get('second');
    expect(second instanceof qless.Job ? second.history.map((entry) => entry.what) : second).toEqual(['put']);
    expect(c.gateway.via).toBe('function');
  });
});

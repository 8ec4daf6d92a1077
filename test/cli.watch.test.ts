/** `watch`: a live tail of the core's events until Ctrl-C (exit 0), or until Redis goes away (exit 3). */
import type { ChildProcess } from 'node:child_process';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RedisServer } from './support/redis-server.js';
import { assertBuilt, start } from './support/cli.js';
import { useClients } from './support/client.js';
import { useRedis } from './support/redis.js';

const ctx = useRedis();
const make = useClients(ctx);

beforeAll(assertBuilt);

interface Watcher {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const running: ChildProcess[] = [];
afterEach(() => {
  for (const child of running.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

/** Start `watch` and wait until it says it is subscribed. */
async function watch(...args: string[]): Promise<Watcher> {
  const child = start(['watch', ...args]);
  running.push(child);
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
  await expect.poll(() => err, { timeout: 10_000 }).toMatch(/watching .*Ctrl-C to stop/);
  return { child, stdout: () => out, stderr: () => err, exit };
}

describe('watch', () => {
  it('prints ql:log and tracked-job events, one line each, and exits 0 on SIGINT', async () => {
    const watcher = await watch('--host', ctx.url);
    const client = make({ workerName: 'gnome-1' });
    const queue = client.queue('underpants');
    await queue.put('gnomes.GnomesJob', {}, { jid: 'watched' });
    await client.track('watched');
    await (await queue.pop())!.complete('profit');
    await queue.put('gnomes.GnomesJob', {}, { jid: 'doomed' });
    await (await queue.pop())!.fail('torn', 'Torn underpants\nat line 2');
    await client.config.set('heartbeat', 120);
    await expect.poll(() => watcher.stdout().split('\n').length, { timeout: 10_000 }).toBeGreaterThanOrEqual(8);
    watcher.child.kill('SIGINT');
    expect(await watcher.exit).toEqual({ code: 0, signal: null });

    const lines = watcher.stdout().trimEnd().split('\n');
    const shape = lines.map((line) => line.replace(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z {2}/, '').replace(/ +/g, ' '));
    expect(shape).toEqual([
      'ql:log put jid=watched queue=underpants',
      'ql:track track jid=watched',
      'ql:popped popped jid=watched',
      'ql:completed completed jid=watched',
      'ql:log advanced jid=watched queue=underpants to=profit',
      'ql:log put jid=doomed queue=underpants',
      'ql:log failed jid=doomed group=torn message="Torn underpants\\nat line 2" worker=gnome-1',
      'ql:log config_set option=heartbeat value=120',
    ]);
    expect(lines.every((line) => /^\d{4}-\d\d-\d\dT/.test(line))).toBe(true);
  });

  it('prints one JSON object per line with --json', async () => {
    const watcher = await watch('--json', '--host', ctx.url);
    const client = make();
    await client.queue('q').put('k.K', {}, { jid: 'j' });
    await client.jobs.cancel('j');
    await expect.poll(() => watcher.stdout().trimEnd().split('\n').length, { timeout: 10_000 }).toBe(2);
    watcher.child.kill('SIGINT');
    expect((await watcher.exit).code, watcher.stderr()).toBe(0);
    const events = watcher.stdout().trimEnd().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    for (const event of events) expect(typeof event['time']).toBe('string');
    expect(events.map(({ time: _time, ...rest }) => rest)).toEqual([
      { channel: 'ql:log', event: 'put', jid: 'j', queue: 'q' },
      { channel: 'ql:log', event: 'canceled', jid: 'j', queue: 'q', worker: '' },
    ]);
  });

  it('exits 0 on SIGTERM too', async () => {
    const watcher = await watch('--host', ctx.url);
    watcher.child.kill('SIGTERM');
    expect((await watcher.exit).code, watcher.stderr()).toBe(0);
  });

  it('exits 3 when Redis goes away', async () => {
    const server = await RedisServer.start();
    try {
      const watcher = await watch('--host', server.url);
      await server.stop();
      expect((await watcher.exit).code, watcher.stderr()).toBe(3);
      expect(watcher.stderr()).toContain(`error: lost the connection to Redis at ${server.url}`);
    } finally {
      await server.dispose();
    }
  });
});

/**
 * The dashboard's security rules over raw HTTP (and Chromium where a
 * browser's behaviour is the point): headers, CSRF, same-origin checks,
 * read-only mode, basic and token authentication, mounting under a prefix
 * in node:http and Express-style, and the command line.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import * as qless from '../src/index.js';
import { createDashboard } from '../src/web/index.js';
import { html, escapeHtml } from '../src/web/html.js';
import { CsrfGuard } from '../src/web/security.js';
import { useRedis } from './support/redis.js';
import { serveDashboard, Session, startWebCli, useBrowser, type ServedDashboard } from './support/web.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const ctx = useRedis();
const browser = useBrowser();
let client: qless.Client;
const served: ServedDashboard[] = [];

async function serve(options: Parameters<typeof serveDashboard>[1] = {}): Promise<ServedDashboard> {
  const s = await serveDashboard(ctx, options);
  served.push(s);
  return s;
}

beforeAll(() => {
  client = qless.client(ctx.url, { workerName: 'worker-1' });
});

afterEach(async () => {
  await Promise.all(served.splice(0).map((s) => s.close()));
});

afterAll(async () => {
  await client?.close();
});

async function paused(queue: string): Promise<boolean> {
  return (await client.queue(queue).counts()).paused;
}

describe('html template', () => {
  it('escapes every interpolation, in text and attributes, unless it is already markup', () => {
    expect(escapeHtml(`<a href="x" onclick='y'>&\``)).toBe('&lt;a href=&quot;x&quot; onclick=&#39;y&#39;&gt;&amp;&#96;');
    const evil = '"><script>alert(1)</script>';
    expect(html`<p title="${evil}">${evil}</p>`.toString()).toBe(
      '<p title="&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;">&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;</p>',
    );
    expect(html`<ul>${['<a>', html`<li>ok</li>`]}</ul>`.toString()).toBe('<ul>&lt;a&gt;<li>ok</li></ul>');
    expect(html`${null}${undefined}${false}${0}`.toString()).toBe('0');
  });
});

describe('headers', () => {
  it('sets a strict Content-Security-Policy, nosniff, no framing, and an HttpOnly SameSite CSRF cookie', async () => {
    const s = await serve();
    const res = await fetch(s.url);
    expect(res.status).toBe(200);
    const csp = res.headers.get('content-security-policy')!;
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain("default-src 'none'");
    expect(csp).not.toContain('unsafe-inline');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    expect(res.headers.getSetCookie().join('\n')).toMatch(/qless_csrf=[^;]+; Path=\/; HttpOnly; SameSite=Strict/);
    const css = await fetch(new URL('assets/app.css', s.url));
    expect(css.headers.get('content-type')).toContain('text/css');
    expect(css.headers.get('content-security-policy')).toBe(csp);
  });
});

describe('CSRF', () => {
  it('refuses a POST without the token (403) and changes nothing', async () => {
    const s = await serve();
    await client.queue('q').put('app.Job', {});
    const session = new Session(s.origin);
    const { csrf } = await session.page('/queues/q');
    expect(csrf).toBeDefined();
    expect((await session.post('/queues/q/pause', {})).status).toBe(403);
    expect((await session.post('/queues/q/pause', { _csrf: 'forged' })).status).toBe(403);
    // The token without the cookie it belongs to (another browser's token).
    const other = new Session(s.origin);
    expect((await other.post('/queues/q/pause', { _csrf: csrf! })).status).toBe(403);
    // A body that is not a form carries no token either.
    expect((await session.fetch('/queues/q/pause', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ _csrf: csrf }) })).status).toBe(403);
    expect(await paused('q')).toBe(false);
    // The same request with the token goes through: the refusals above were about the token.
    const ok = await session.post('/queues/q/pause', { _csrf: csrf! });
    expect(ok.status).toBe(303);
    expect(ok.headers.get('location')).toBe('/queues/q');
    expect(await paused('q')).toBe(true);
  });

  it('refuses a POST from another origin even with a valid token', async () => {
    const s = await serve();
    await client.queue('q').put('app.Job', {});
    const session = new Session(s.origin);
    const { csrf } = await session.page('/queues/q');
    expect((await session.post('/queues/q/pause', { _csrf: csrf! }, { origin: 'http://evil.example' })).status).toBe(403);
    expect((await session.post('/queues/q/pause', { _csrf: csrf! }, { origin: 'null' })).status).toBe(403);
    expect((await session.post('/queues/q/pause', { _csrf: csrf! }, { 'sec-fetch-site': 'cross-site' })).status).toBe(403);
    expect(await paused('q')).toBe(false);
    expect((await session.post('/queues/q/pause', { _csrf: csrf! }, { origin: s.origin, 'sec-fetch-site': 'same-origin' })).status).toBe(303);
    expect(await paused('q')).toBe(true);
  });

  it('a form auto-submitted by another site is refused by the browser round trip', async () => {
    const s = await serve();
    await client.queue('q').put('app.Job', {});
    // The attacker's page, on another origin (localhost vs 127.0.0.1).
    const attacker = createServer((_req, res) => {
      res.setHeader('content-type', 'text/html');
      res.end(`<form id="f" method="post" action="${s.origin}/queues/q/pause"><input name="_csrf" value="guess"></form><p>hi</p>`);
    });
    await new Promise<void>((done) => attacker.listen(0, '127.0.0.1', done));
    try {
      const context = await browser.context();
      const page = await context.newPage();
      await page.goto(s.url); // the victim has a CSRF cookie
      await page.goto(`http://localhost:${(attacker.address() as AddressInfo).port}/`);
      const [response] = await Promise.all([page.waitForNavigation(), page.evaluate(`document.getElementById('f').submit()`)]);
      expect(response!.status()).toBe(403);
      await context.close();
    } finally {
      attacker.close();
    }
    expect(await paused('q')).toBe(false);
  });
});

describe('read-only mode', () => {
  it('hides every action and refuses every POST with 403', async () => {
    const s = await serve({ readOnly: true, secret: 'shared-secret' });
    const put = client.queue('q');
    await put.put('app.Job', {}, { jid: 'j1' });
    await put.pop();
    await (await client.jobs.get('j1') as qless.Job).fail('grp', 'boom');
    const session = new Session(s.origin);
    for (const path of ['/', '/queues/q', '/jobs/j1', '/failed/grp', '/config']) {
      const { res, html: body } = await session.page(path);
      expect(res.status, path).toBe(200);
      expect(body, path).not.toMatch(/method="post"/i);
    }
    const { html: job } = await session.page('/jobs/j1');
    expect(job).toContain('read-only');
    expect(job).toContain('boom');
    // Even a request carrying a valid token is refused (no page shows one:
    // it is computed here from the shared secret).
    const token = new CsrfGuard('shared-secret').tokenFor(session.cookies.get('qless_csrf')!);
    for (const path of ['/queues/q/pause', '/jobs/j1/retry', '/jobs/j1/cancel', '/failed/grp/cancel', '/config']) {
      expect((await session.post(path, { _csrf: token, option: 'heartbeat', value: '1' })).status, path).toBe(403);
    }
    expect(await paused('q')).toBe(false);
    expect((await client.jobs.get('j1') as qless.Job).state).toBe('failed');
    expect(await client.config.get('heartbeat')).toBe(60);
  });
});

describe('authentication', () => {
  it('basic auth: 401 without or with wrong credentials, pages with the right ones', async () => {
    const s = await serve({ auth: { user: 'ops', password: 's3cret' } });
    const basic = (user: string, password: string) => ({ authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` });
    const anonymous = await fetch(s.url);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toMatch(/^Basic realm="qless"/);
    expect((await fetch(s.url, { headers: basic('ops', 'wrong') })).status).toBe(401);
    expect((await fetch(s.url, { headers: basic('other', 's3cret') })).status).toBe(401);
    expect((await fetch(new URL('events', s.url))).status).toBe(401);
    expect((await fetch(new URL('fragments/overview', s.url))).status).toBe(401);
    const ok = await fetch(s.url, { headers: basic('ops', 's3cret') });
    expect(ok.status).toBe(200);
    expect(await ok.text()).toContain('<h1>Overview');
    // The stylesheet and script are public: they hold no data.
    expect((await fetch(new URL('assets/app.js', s.url))).status).toBe(200);
  });

  it('basic auth in a browser', async () => {
    const s = await serve({ auth: { user: 'ops', password: 's3cret' } });
    await client.queue('browser-q').put('app.Job', {});
    const context = await browser.context({ httpCredentials: { username: 'ops', password: 's3cret' } });
    const page = await context.newPage();
    expect((await page.goto(s.url))!.status()).toBe(200);
    await page.locator('tr[data-queue="browser-q"]').waitFor();
    await context.close();
  });

  it('token auth: Bearer header for scripts, sign-in form and session cookie for browsers', async () => {
    const s = await serve({ auth: { token: 'tok-123' } });
    expect((await fetch(s.url)).status).toBe(401);
    expect((await fetch(s.url, { headers: { authorization: 'Bearer nope' } })).status).toBe(401);
    expect((await fetch(s.url, { headers: { authorization: 'Bearer tok-123' } })).status).toBe(200);

    const session = new Session(s.origin);
    const login = await session.page('/queues/q?state=running');
    expect(login.res.status).toBe(401);
    expect(login.html).toContain('Sign in');
    const wrong = await session.post('/login', { _csrf: login.csrf!, token: 'nope', next: '/queues/q?state=running' });
    expect(wrong.status).toBe(401);
    const noCsrf = await session.post('/login', { token: 'tok-123' });
    expect(noCsrf.status).toBe(403);
    const right = await session.post('/login', { _csrf: login.csrf!, token: 'tok-123', next: '/queues/q?state=running' });
    expect(right.status).toBe(303);
    expect(right.headers.get('location')).toBe('/queues/q?state=running');
    expect(session.cookies.get('qless_session')).toBeDefined();
    expect(session.cookies.get('qless_session')).not.toContain('tok-123');
    expect((await session.fetch('/')).status).toBe(200);
    // An offsite "next" is ignored.
    const again = new Session(s.origin);
    const form = await again.page('/login');
    expect(form.res.status).toBe(200);
    const jump = await again.post('/login', { _csrf: form.csrf!, token: 'tok-123', next: '//evil.example/' });
    expect(jump.headers.get('location')).toBe('/');
  });
});

describe('sign-in: where to go next', () => {
  // Each of these reads, to a browser, as another host (or a path outside the dashboard).
  const offsite = [
    '//evil.example/',
    '/\t/evil.example',
    '/\n/evil.example',
    '/\r\n/evil.example',
    '/\\evil.example',
    '\\/evil.example',
    ' //evil.example',
    '\u0000//evil.example',
    '/.//evil.example',
    'https://evil.example/',
    'http://evil.example\\@dashboard/',
    'javascript:alert(1)',
  ];

  it('sends the browser only to same-origin paths, normalised as a browser reads them', async () => {
    const s = await serve({ auth: { token: 'tok-123' } });
    for (const next of offsite) {
      const session = new Session(s.origin);
      const form = await session.page(`/login?next=${encodeURIComponent(next)}`);
      const hidden = /name="next" value="([^"]*)"/.exec(form.html)![1]!;
      expect(new URL(hidden, s.origin).origin, `${JSON.stringify(next)} → ${hidden}`).toBe(s.origin);
      const res = await session.post('/login', { _csrf: form.csrf!, token: 'tok-123', next });
      expect(res.status, JSON.stringify(next)).toBe(303);
      const location = res.headers.get('location')!;
      expect(new URL(location, s.origin).origin, `${JSON.stringify(next)} → ${location}`).toBe(s.origin);
      expect(location).not.toMatch(/^\/\/|[\\\t\r\n]/);
    }
    // Same-origin paths survive, in their normalised form.
    const session = new Session(s.origin);
    const form = await session.page('/login');
    const kept = async (next: string): Promise<string | null> =>
      (await session.post('/login', { _csrf: form.csrf!, token: 'tok-123', next })).headers.get('location');
    expect(await kept('/queues/q?state=running#jobs')).toBe('/queues/q?state=running#jobs');
    expect(await kept('/queues/a%2Fb')).toBe('/queues/a%2Fb');
    expect(await kept('/jobs/../failed')).toBe('/failed');
    expect(await kept('/%2F%2Fevil.example')).toBe('/%2F%2Fevil.example');
    // Relative to an http page, "http:x" is a path of ours, as a browser reads it.
    expect(await kept('http:evil.example')).toBe('/evil.example');
  });

  it('under a prefix, only paths inside the dashboard', async () => {
    const s = await serve({ auth: { token: 'tok-123' }, prefix: '/qless' });
    const session = new Session(s.origin);
    const form = await session.page('/qless/login');
    const next = async (value: string): Promise<string | null> =>
      (await session.post('/qless/login', { _csrf: form.csrf!, token: 'tok-123', next: value })).headers.get('location');
    expect(await next('/qless/queues/q')).toBe('/qless/queues/q');
    expect(await next('/qless/../admin')).toBe('/qless/');
    expect(await next('/qlessy/')).toBe('/qless/');
    // Only a path of ours, however odd.
    expect(await next('/qless/\t/..//evil.example')).toBe('/qless//evil.example');
  });

  it('in Chromium, signing in with a next of "/<tab>/evil.example" stays on the dashboard', async () => {
    const s = await serve({ auth: { token: 'tok-123' } });
    const context = await browser.context();
    const page = await context.newPage();
    await page.goto(`${s.url}login?next=${encodeURIComponent('/\t/evil.example')}`);
    await page.getByLabel('Access token').fill('tok-123');
    await Promise.all([page.waitForEvent('load'), page.getByRole('button', { name: 'Sign in' }).click()]);
    expect(new URL(page.url()).origin).toBe(s.origin);
    expect(await page.locator('h1').innerText()).toContain('Overview');
    await context.close();
  });
});

describe('behind a reverse proxy', () => {
  async function pausedBy(s: ServedDashboard, headers: Record<string, string>): Promise<number> {
    await client.queue('q').unpause();
    const session = new Session(s.origin);
    const { csrf } = await session.page('/queues/q');
    return (await session.post('/queues/q/pause', { _csrf: csrf! }, headers)).status;
  }

  it('ignores X-Forwarded-Host/-Proto for the origin check unless trustProxy says so', async () => {
    await client.queue('q').put('app.Job', {});
    const proxied = { origin: 'https://jobs.example.com', 'x-forwarded-host': 'jobs.example.com', 'x-forwarded-proto': 'https' };
    const plain = await serve();
    expect(await pausedBy(plain, proxied)).toBe(403);
    expect(await paused('q')).toBe(false);

    const trusting = await serve({ trustProxy: true });
    expect(await pausedBy(trusting, proxied)).toBe(303);
    expect(await paused('q')).toBe(true);
    // The scheme must agree too, and another host is still another host.
    expect(await pausedBy(trusting, { ...proxied, 'x-forwarded-proto': 'http' })).toBe(403);
    expect(await pausedBy(trusting, { ...proxied, origin: 'https://evil.example' })).toBe(403);
    expect(await pausedBy(trusting, { ...proxied, 'x-forwarded-host': 'evil.example, jobs.example.com' })).toBe(403);
    expect(await paused('q')).toBe(false);
  });

  it('marks cookies Secure when a trusted proxy says the browser used https', async () => {
    const secure = async (options: { trustProxy?: boolean }): Promise<boolean> => {
      const s = await serve(options);
      const res = await fetch(s.url, { headers: { 'x-forwarded-proto': 'https' } });
      return /; Secure/.test(res.headers.getSetCookie().join('\n'));
    };
    expect(await secure({})).toBe(false);
    expect(await secure({ trustProxy: true })).toBe(true);
  });
});

describe('mounting', () => {
  it('under a prefix in node:http: links carry the prefix, other paths go to next()', async () => {
    const s = await serve({ prefix: '/qless' });
    await client.queue('q').put('app.Job', {}, { jid: 'j1' });
    const session = new Session(s.origin);
    const { res, html: body } = await session.page('/qless/');
    expect(res.status).toBe(200);
    expect(body).toContain('href="/qless/queues/q"');
    expect(body).toContain('href="/qless/assets/app.css?v=');
    expect(body).toContain('action="/qless/search"');
    expect(res.headers.getSetCookie().join('\n')).toContain('Path=/qless;');
    expect((await session.fetch('/qless')).status).toBe(200);
    expect((await session.fetch('/qless/assets/app.css')).status).toBe(200);
    expect((await session.fetch('/')).status).toBe(418);
    expect((await session.fetch('/qlessy')).status).toBe(418);
    const { csrf } = await session.page('/qless/queues/q');
    const pause = await session.post('/qless/queues/q/pause', { _csrf: csrf! });
    expect(pause.status).toBe(303);
    expect(pause.headers.get('location')).toBe('/qless/queues/q');
    expect(await paused('q')).toBe(true);
    const search = await session.fetch('/qless/search?q=j1');
    expect(search.headers.get('location')).toBe('/qless/jobs/j1');
  });

  it('in a browser under a prefix, with live refresh', async () => {
    const s = await serve({ prefix: '/ops/qless', refreshSeconds: 60 });
    const context = await browser.context();
    const page = await context.newPage();
    await page.goto(s.url);
    await page.waitForFunction(`document.querySelector('[data-live-status]')?.getAttribute('data-state') === 'live'`);
    await client.queue('prefixed').put('app.Job', {}, { jid: 'p1' });
    await page.locator('tr[data-queue="prefixed"]').waitFor();
    await page.getByRole('link', { name: 'prefixed' }).click();
    await page.waitForURL(/\/ops\/qless\/queues\/prefixed$/);
    await page.getByRole('link', { name: 'p1' }).click();
    await page.getByRole('button', { name: 'Track' }).click();
    await page.locator('.flash').waitFor();
    expect((await client.jobs.get('p1') as qless.Job).tracked).toBe(true);
    await context.close();
  });

  it('Express-style: mount path in req.baseUrl, body already parsed into req.body', async () => {
    // What express does for app.use('/admin/qless', urlencoded(), dashboard).
    const dashboard = createDashboard({ client: qless.client(ctx.url, { workerName: 'dashboard' }) });
    const server = createServer(async (req: IncomingMessage & { baseUrl?: string; body?: unknown }, res) => {
      if (!req.url!.startsWith('/admin/qless')) {
        res.statusCode = 404;
        res.end();
        return;
      }
      req.baseUrl = '/admin/qless';
      req.url = req.url!.slice('/admin/qless'.length) || '/';
      if (req.method === 'POST') {
        let text = '';
        for await (const chunk of req) text += String(chunk);
        req.body = Object.fromEntries(new URLSearchParams(text));
      }
      dashboard(req, res);
    });
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    try {
      await client.queue('q').put('app.Job', {});
      const session = new Session(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
      const { html: body } = await session.page('/admin/qless/');
      expect(body).toContain('href="/admin/qless/queues/q"');
      const { csrf } = await session.page('/admin/qless/queues/q');
      const pause = await session.post('/admin/qless/queues/q/pause', { _csrf: csrf! });
      expect(pause.status).toBe(303);
      expect(pause.headers.get('location')).toBe('/admin/qless/queues/q');
      expect(await paused('q')).toBe(true);
    } finally {
      server.closeAllConnections();
      server.close();
      await dashboard.close();
      await dashboard.client.close();
    }
  });
});

describe('qless-ts-web command', () => {
  let child: ChildProcess | undefined;
  afterEach(() => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
    child = undefined;
  });

  /** Start `qless-ts-web` with these arguments; resolves with what it printed once it serves. */
  async function startWeb(args: readonly string[]): Promise<{ url: string; out: string }> {
    const web = await startWebCli(ctx.url, args);
    child = web.child;
    return { url: web.url, out: web.out };
  }

  /** SIGTERM the running `qless-ts-web` and resolve with its exit status. */
  async function stopWeb(): Promise<number | null> {
    const exit = new Promise<number | null>((done) => child!.once('exit', (code) => done(code)));
    child!.kill('SIGTERM');
    return exit;
  }

  it('serves the dashboard with the options given, and stops on SIGTERM', async () => {
    await client.queue('cli-q').put('app.Job', {});
    const { url, out } = await startWeb(['--prefix', '/q', '--token', 'tkn', '--read-only']);
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/q\/$/);
    expect(out).toContain('(read-only)');
    expect((await fetch(url)).status).toBe(401);
    const page = await fetch(url, { headers: { authorization: 'Bearer tkn' } });
    expect(page.status).toBe(200);
    const body = await page.text();
    expect(body).toContain('cli-q');
    expect(body).not.toMatch(/method="post"/i);
    const root = await fetch(url.replace(/\/q\/$/, '/'), { redirect: 'manual' });
    expect(root.status).toBe(302);
    expect(root.headers.get('location')).toBe('/q/');
    expect(await stopWeb()).toBe(0);
  }, 30_000);

  it('--trust-proxy makes it believe the proxy headers', async () => {
    await client.queue('cli-q').put('app.Job', {});
    const url = new URL((await startWeb(['--trust-proxy'])).url);
    const session = new Session(url.origin);
    const { csrf } = await session.page('/queues/cli-q');
    const res = await session.post('/queues/cli-q/pause', { _csrf: csrf! }, { origin: 'https://jobs.example.com', 'x-forwarded-host': 'jobs.example.com', 'x-forwarded-proto': 'https' });
    expect(res.status).toBe(303);
    expect(await paused('cli-q')).toBe(true);
    expect(await stopWeb()).toBe(0);
  }, 30_000);

  it('refuses contradictory authentication options', async () => {
    child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/web.ts', '--host', ctx.url, '--http-port', '0', '--token', 't', '--user', 'u', '--password', 'p'], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let err = '';
    child.stderr!.on('data', (chunk) => (err += String(chunk)));
    const code = await new Promise<number | null>((done) => child!.once('exit', (c) => done(c)));
    // A usage error, as in the other two binaries: exit 2, one line.
    expect(code).toBe(2);
    expect(err.trim().split('\n')).toEqual([expect.stringContaining('either --user/--password or --token')]);
  }, 30_000);
});

describe('library addition: queue.jobs.waiting', () => {
  it('pages through the work set in pop order without changing the queue', async () => {
    const q = client.queue('w');
    await q.put('a.B', {}, { jid: 'low', priority: -1 });
    await q.put('a.B', {}, { jid: 'first' });
    await q.put('a.B', {}, { jid: 'second' });
    await q.put('a.B', {}, { jid: 'high', priority: 5 });
    await q.put('a.B', {}, { jid: 'later', delay: 60 });
    expect(await q.jobs.waiting()).toEqual(['high', 'first', 'second', 'low']);
    expect(await q.jobs.waiting(1, 2)).toEqual(['first', 'second']);
    expect(await q.jobs.waiting(0, 0)).toEqual([]);
    expect((await q.peek(4))!.map((j) => j.jid)).toEqual(['high', 'first', 'second', 'low']);
    expect((await q.counts()).scheduled).toBe(1);
  });
});

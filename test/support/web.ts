/**
 * Dashboard tests' helpers: a dashboard served by node:http on a free
 * loopback port against the file's private Redis, one headless Chromium per
 * test file (Debian's /usr/bin/chromium driven by playwright-core), and
 * fetch with a cookie jar for the raw-HTTP checks.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect } from 'vitest';
import { chromium, type Browser, type BrowserContext, type BrowserContextOptions, type Locator, type Page } from 'playwright-core';
import * as qless from '../../src/index.js';
import { createDashboard, type Dashboard, type DashboardOptions } from '../../src/web/index.js';
import type { TestRedis } from './redis.js';

export const CHROMIUM = '/usr/bin/chromium';
// Without the networking switches Chromium keeps trying to reach Google's
// services, and the machine has no outside network.
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
}

/** One browser for the whole file; `context()` opens a fresh profile (cookies) closed after the file. */
export function useBrowser(): { browser: () => Browser; context: (options?: BrowserContextOptions) => Promise<BrowserContext> } {
  let browser: Browser | undefined;
  beforeAll(async () => {
    browser = await launchChromium();
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
  });
  return {
    browser: () => browser!,
    context: async (options) => {
      const context = await browser!.newContext({ viewport: { width: 1280, height: 900 }, ...options });
      // Fail fast: a missing element should not eat the whole test timeout.
      context.setDefaultTimeout(5000);
      // Destructive actions ask for confirmation; the tests say yes.
      context.on('page', (page) => page.on('dialog', (dialog) => void dialog.accept()));
      return context;
    },
  };
}

export interface ServedDashboard {
  /** URL of the dashboard's root (with the prefix, and a trailing slash). */
  url: string;
  /** Origin of the server, e.g. `http://127.0.0.1:40123`. */
  origin: string;
  dashboard: Dashboard;
  client: qless.Client;
  server: Server;
  close(): Promise<void>;
}

/** Serve a dashboard on its own node:http server (optionally under a prefix, like the CLI). */
export async function serveDashboard(ctx: TestRedis, options: Omit<DashboardOptions, 'client'> = {}): Promise<ServedDashboard> {
  const client = qless.client(ctx.url, { workerName: 'dashboard' });
  const dashboard = createDashboard({ client, ...options });
  const server = createServer((req, res) =>
    dashboard(req, res, () => {
      res.statusCode = 418;
      res.end('outside the dashboard');
    }),
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: `${origin}${options.prefix ?? ''}/`,
    origin,
    dashboard,
    client,
    server,
    close: async () => {
      await dashboard.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await client.close();
    },
  };
}

/** A minimal fetch session: keeps cookies between requests, never follows redirects. */
export class Session {
  readonly cookies = new Map<string, string>();

  constructor(readonly origin: string) {}

  async fetch(path: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (this.cookies.size > 0 && !headers.has('cookie')) {
      headers.set('cookie', [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; '));
    }
    const res = await fetch(new URL(path, this.origin), { ...init, headers, redirect: 'manual' });
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq);
      const value = pair!.slice(eq + 1);
      if (/max-age=0/i.test(line)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return res;
  }

  /** GET a page and return its HTML and the CSRF token of its forms. */
  async page(path: string, init: RequestInit = {}): Promise<{ res: Response; html: string; csrf: string | undefined }> {
    const res = await this.fetch(path, init);
    const html = await res.text();
    const csrf = /name="_csrf" value="([^"]+)"/.exec(html)?.[1];
    return { res, html, csrf };
  }

  /** POST a form. */
  post(path: string, form: Record<string, string>, headers: Record<string, string> = {}): Promise<Response> {
    return this.fetch(path, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body: new URLSearchParams(form).toString(),
    });
  }
}

/** A dashboard and one browser tab shared by a test file, with the moves a person makes. */
export interface DashboardTab {
  readonly served: ServedDashboard;
  readonly page: Page;
  /** A client on the same Redis, to set things up and check what the buttons did. */
  readonly client: qless.Client;
  /** Open a path under the dashboard and expect `status`. */
  visit(path: string, status?: number): Promise<void>;
  /** Click a button and wait for the page the action redirects to. */
  press(name: string | RegExp, scope?: Locator): Promise<void>;
  /** The text of the message the last action left. */
  flash(): Promise<string>;
}

/** Serve a dashboard and open a tab on it for the whole file (closed after it). */
export function useDashboardTab(ctx: TestRedis, browser: ReturnType<typeof useBrowser>): DashboardTab {
  let served: ServedDashboard | undefined;
  let context: BrowserContext | undefined;
  let page: Page | undefined;
  let client: qless.Client | undefined;
  beforeAll(async () => {
    served = await serveDashboard(ctx);
    context = await browser.context();
    page = await context.newPage();
    client = qless.client(ctx.url, { workerName: 'worker-1' });
  }, 60_000);
  afterAll(async () => {
    await context?.close();
    await served?.close();
    await client?.close();
  });
  const tab: DashboardTab = {
    get served() {
      return served!;
    },
    get page() {
      return page!;
    },
    get client() {
      return client!;
    },
    async visit(path, status = 200) {
      const res = await tab.page.goto(new URL(path, tab.served.url).toString());
      expect(res!.status(), path).toBe(status);
    },
    async press(name, scope = tab.page.locator('body')) {
      await Promise.all([tab.page.waitForEvent('load'), scope.getByRole('button', { name, exact: typeof name === 'string' }).click()]);
    },
    flash: () => tab.page.locator('.flash').innerText(),
  };
  return tab;
}

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** A `qless-ts-web` process started from the sources. */
export interface WebCli {
  child: ChildProcess;
  /** The dashboard's address, as it printed it (ends with `/`). */
  url: string;
  /** What it printed on stdout and stderr by the time it served. */
  out: string;
}

/**
 * Start `qless-ts-web` against `redisUrl` on a free port with `args`;
 * resolves once it says where it serves. The caller kills `child`.
 */
export async function startWebCli(redisUrl: string, args: readonly string[]): Promise<WebCli> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/web.ts', '--host', redisUrl, '--http-port', '0', ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (chunk) => (out += String(chunk)));
  child.stderr!.on('data', (chunk) => (out += String(chunk)));
  const serving = /serving (http:\/\/\S+)/;
  const deadline = Date.now() + 20_000;
  while (!serving.test(out)) {
    if (Date.now() > deadline || child.exitCode !== null) {
      child.kill('SIGKILL');
      throw new Error(`qless-ts-web did not start: ${out}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { child, url: serving.exec(out)![1]!, out };
}

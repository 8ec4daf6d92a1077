/**
 * The dashboard as one request handler, `(req, res, next?)`, that works
 * with node:http, Express and Fastify alike, mounted at the root or under
 * a path prefix. This module is the request pipeline; the pages, actions,
 * security rules and live refresh each live in a module of their own.
 *
 * Order of checks for every request: mount path → security headers →
 * static assets (public) → authentication → for a POST: read-only switch,
 * same-origin check, CSRF token → the route.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { client as connect, type Client } from '../client.js';
import { QlessError } from '../errors.js';
import { isCluster } from '../gateway.js';
import { isConnectionProblem, plainMessage, sentence } from '../messages.js';
import { ASSETS, assetUrls } from './assets.js';
import { appendCookie, cookie, HttpError, isTls, parseCookies, readForm, redirect, send, setSecurityHeaders, type Request } from './http.js';
import { LiveHub } from './live.js';
import { ACTIONS, match, PAGES, segmentsOf } from './routes.js';
import { Authenticator, CSRF_COOKIE, CSRF_FIELD, CsrfGuard, forwarded, fromSameOrigin, SESSION_COOKIE, type DashboardAuth } from './security.js';
import type { PageRequest, ViewContext } from './views/context.js';
import { href } from './views/context.js';
import { layout, type Flash, type Page } from './views/layout.js';
import { errorPage, foundAnything, loginPage, notFoundPage, searchMissPage, searchResultsPage } from './views/misc.js';
import { exactMatch, search as searchFor } from './search.js';
import { overviewSections } from './views/overview.js';

/** Options of {@link createDashboard}. */
export interface DashboardOptions {
  /** The qless client to read and act through (not closed by the dashboard). Default: one on `redis`. */
  client?: Client;
  /** Redis URL used when no `client` is given. Default `$QLESS_REDIS_URL`, else `redis://127.0.0.1:6379`. */
  redis?: string;
  /**
   * The qless namespaces to show ('' for the default one); default: the
   * client's own. With several, the header switches between them: the
   * first is served at the root, each one at `/n/<name>/` as well, and all
   * of them share the client's connection.
   */
  namespaces?: readonly string[];
  /**
   * Path prefix to serve under, e.g. `/qless`: requests outside it go to
   * `next()` (or get a 404). Not needed in Express, which strips the mount
   * path itself (`app.use('/qless', dashboard)`).
   */
  prefix?: string;
  /** Hide every action and refuse every POST with 403. */
  readOnly?: boolean;
  /** Require basic auth (`{ user, password }`) or a token (`{ token }`). Default: none. */
  auth?: DashboardAuth;
  /**
   * Key of the CSRF tokens' HMAC. Default: random per process, which is
   * right unless several processes serve the same dashboard behind one
   * address (then give them the same secret).
   */
  secret?: string | Buffer;
  /** Rows per page of every list. Default 25. */
  pageSize?: number;
  /** Seconds between refreshes of the overview when no event arrives. Default 5. */
  refreshSeconds?: number;
  /**
   * Believe a reverse proxy's `X-Forwarded-Host` and `X-Forwarded-Proto`:
   * for the same-origin check of POSTs, and (`https`) to mark cookies
   * Secure. Only when every request comes through a proxy that sets them:
   * anyone reaching the dashboard directly could send them. Default false.
   */
  trustProxy?: boolean;
  /** Called with every unexpected error (a 500 page); the page shows only its message. */
  onError?: (error: unknown) => void;
  /**
   * Serve Prometheus metrics of the queues at `/metrics` (behind the same
   * authentication as every page; see src/web/metrics.ts). Default true.
   */
  metrics?: boolean;
}

/** A request handler for node:http, Express or Fastify, plus its clean-up. */
export interface Dashboard {
  (req: IncomingMessage, res: ServerResponse, next?: (error?: unknown) => void): void;
  /** The client the dashboard uses (the first namespace's). */
  readonly client: Client;
  /** End the live event streams and their subscription; closes the client only if the dashboard opened it. */
  close(): Promise<void>;
}

const FLASH_COOKIE = 'qless_flash';
const CSRF_COOKIE_SHAPE = /^[A-Za-z0-9_-]{16,128}$/;

function normalisePrefix(prefix: string | undefined): string {
  if (prefix === undefined || prefix === '' || prefix === '/') return '';
  if (!prefix.startsWith('/') || /[?#\\]/.test(prefix)) throw new Error(`createDashboard: prefix must be a path such as /qless, got ${prefix}`);
  return prefix.replace(/\/+$/, '');
}

function encodeFlash(flash: Flash): string {
  const text = flash.text.length > 600 ? `${flash.text.slice(0, 600)}…` : flash.text;
  return Buffer.from(JSON.stringify({ kind: flash.kind, text }), 'utf8').toString('base64url');
}

function decodeFlash(value: string | undefined): Flash | undefined {
  if (!value) return undefined;
  try {
    const parsed: unknown = JSON.parse(Buffer.from(value, 'base64url').toString('utf8'));
    if (typeof parsed !== 'object' || parsed === null) return undefined;
    const { kind, text } = parsed as { kind?: unknown; text?: unknown };
    if ((kind !== 'ok' && kind !== 'error' && kind !== 'warning') || typeof text !== 'string') return undefined;
    return { kind, text };
  } catch {
    return undefined;
  }
}

/**
 * The submitted form; a body that is not a form reads as an empty one, so
 * it fails the CSRF check (403) like any other POST without the token.
 */
async function formOrEmpty(req: Request): Promise<URLSearchParams> {
  try {
    return await readForm(req);
  } catch (error) {
    if (error instanceof HttpError && error.status === 415) return new URLSearchParams();
    throw error;
  }
}

// A stand-in origin to resolve `next` against: nothing real lives there.
const HERE = 'http://dashboard.invalid';

/**
 * Where to go after signing in: only a path inside the dashboard, never
 * another site. `next` is read as a browser reads a Location (tabs and
 * newlines dropped, backslashes taken for slashes, dot segments resolved,
 * control characters encoded), and only the normalised path, query and
 * fragment are used, so what passes the check is exactly what the browser
 * will follow: `/\t/evil.example` reads as `//evil.example`, another host.
 */
function safeNext(next: string | null, base: string): string {
  const home = `${base}/`;
  if (!next) return home;
  let url: URL;
  try {
    url = new URL(next, HERE);
  } catch {
    return home;
  }
  const target = `${url.pathname}${url.search}${url.hash}`;
  // `//x` would name another host again once sent back as a Location.
  if (url.origin !== HERE || !target.startsWith(home) || target.startsWith('//')) return home;
  return target;
}

/** The Redis a client talks to, for messages: `host:port`, a socket path, a Sentinel set's master, or a cluster. */
function redisLabel(client: Client): string {
  if (isCluster(client.redis)) return `the Redis Cluster (${client.keys.label})`;
  const { host, port, path, db, sentinels, name } = client.redis.options;
  if (sentinels && sentinels.length > 0) return `the primary "${name ?? 'mymaster'}" of the Sentinels`;
  if (path) return path;
  return `${host ?? '127.0.0.1'}:${port ?? 6379}${db ? `/${db}` : ''}`;
}

/** One namespace the dashboard shows: its client, live events, and names. */
interface NamespaceView {
  client: Client;
  hub: LiveHub;
  /** In the header. */
  label: string;
  /** In the URL (`/n/<segment>/`). */
  segment: string;
}

/**
 * The namespaces to show, each with a client sharing `client`'s connection
 * (the first is `client` itself when it is in that namespace already).
 */
function namespaceViews(client: Client, namespaces: readonly string[] | undefined): NamespaceView[] {
  const names = namespaces === undefined || namespaces.length === 0 ? [client.namespace ?? ''] : [...new Set(namespaces)];
  return names.map((name) => {
    const namespace = name === '' ? undefined : name;
    const own = namespace === client.namespace ? client : connect({ connection: client.redis, namespace, workerName: client.workerName, clock: client.clock });
    return { client: own, hub: new LiveHub(own), label: namespace ?? 'default', segment: namespace ?? '-' };
  });
}

/** Create the dashboard's request handler. */
export function createDashboard(options: DashboardOptions = {}): Dashboard {
  const prefix = normalisePrefix(options.prefix);
  const readOnly = options.readOnly ?? false;
  const pageSize = options.pageSize ?? 25;
  const refreshSeconds = options.refreshSeconds ?? 5;
  const trustProxy = options.trustProxy ?? false;
  const metrics = options.metrics ?? true;
  if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > 1000) throw new Error('createDashboard: pageSize must be an integer from 1 to 1000');
  if (!(refreshSeconds > 0)) throw new Error('createDashboard: refreshSeconds must be positive');
  const authenticator = new Authenticator(options.auth);
  const csrf = new CsrfGuard(options.secret);
  // Connect last: every option has been checked, so a refusal leaves nothing open.
  const owned = options.client === undefined;
  const firstNamespace = options.namespaces?.[0];
  const firstOptions = firstNamespace === undefined || firstNamespace === '' ? {} : { namespace: firstNamespace };
  const client = options.client ?? (options.redis === undefined ? connect(firstOptions) : connect(options.redis, firstOptions));
  const views = namespaceViews(client, options.namespaces);

  /** The namespace a path asks for (`/n/<name>/…`, else the first), and the rest of the path. */
  function namespaceOf(segments: readonly string[]): { view: NamespaceView; rest: readonly string[]; mount: string } {
    if (views.length > 1 && segments[0] === 'n' && segments.length >= 2) {
      const found = views.find((v) => v.segment === segments[1]);
      if (found) return { view: found, rest: segments.slice(2), mount: `/n/${encodeURIComponent(found.segment)}` };
    }
    return { view: views[0]!, rest: segments, mount: '' };
  }

  async function handle(req: Request, res: ServerResponse, next: ((error?: unknown) => void) | undefined, state: { base: string }): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://dashboard.invalid');
    let path = url.pathname;
    if (prefix !== '') {
      if (path !== prefix && !path.startsWith(`${prefix}/`)) {
        if (next) next();
        else send(res, 404, 'text/plain; charset=utf-8', 'Not found\n');
        return;
      }
      path = path.slice(prefix.length) || '/';
    }
    const root = (typeof req.baseUrl === 'string' ? req.baseUrl.replace(/\/+$/, '') : '') + prefix;
    state.base = root;
    // Cookies belong to the whole dashboard, whichever namespace set them.
    const cookiePath = root === '' ? '/' : root;
    // Cookies are Secure when the browser reached us over TLS, as far as we can tell.
    const secure = isTls(req) || (trustProxy && forwarded(req, 'x-forwarded-proto') === 'https');
    setSecurityHeaders(res);

    const method = req.method === 'HEAD' ? 'GET' : (req.method ?? 'GET');
    const allSegments = segmentsOf(path);
    if (!allSegments) throw new HttpError(400, 'the path is not valid URL encoding');
    const selected = namespaceOf(allSegments);
    const segments = selected.rest;
    const { client, hub } = selected.view;
    const base = root + selected.mount;
    state.base = base;

    const asset = method === 'GET' && segments.length === 2 && segments[0] === 'assets' ? ASSETS.get(segments[1]!) : undefined;
    if (asset) {
      // Fingerprinted URLs never change content, so caching them for good is safe.
      const cache = url.searchParams.get('v') === asset.hash ? 'public, max-age=31536000, immutable' : 'no-cache';
      send(res, 200, asset.type, asset.body, { 'Cache-Control': cache });
      return;
    }

    const cookies = parseCookies(req.headers.cookie);
    const sentCsrf = cookies.get(CSRF_COOKIE);
    let csrfCookie = sentCsrf !== undefined && CSRF_COOKIE_SHAPE.test(sentCsrf) ? sentCsrf : undefined;
    if (csrfCookie === undefined) {
      csrfCookie = csrf.newCookie();
      appendCookie(res, cookie(CSRF_COOKIE, csrfCookie, { path: cookiePath, secure }));
    }
    const view: ViewContext = {
      base,
      csrf: csrf.tokenFor(csrfCookie),
      readOnly,
      now: client.now(),
      assets: assetUrls(base),
      refreshSeconds,
      ...(views.length > 1
        ? { namespaces: views.map((v, i) => ({ name: v.label, home: `${root}${i === 0 ? '' : `/n/${encodeURIComponent(v.segment)}`}/`, current: v === selected.view })) }
        : {}),
    };
    const render = (page: Page, flash?: Flash): void =>
      send(res, page.status ?? 200, 'text/html; charset=utf-8', layout(view, page, flash).toString());
    const refuse = (status: number, message: string): void => render(errorPage(status, message));

    // Token sign-in comes before the authentication check it satisfies.
    if (authenticator.usesToken && segments.length === 1 && segments[0] === 'login') {
      if (method === 'GET') {
        render({ ...loginPage(view, safeNext(url.searchParams.get('next'), base), false), status: 200 });
        return;
      }
      if (method === 'POST') {
        const form = await formOrEmpty(req);
        if (!fromSameOrigin(req, trustProxy) || !csrf.verify(sentCsrf, form.get(CSRF_FIELD))) return refuse(403, 'The form was not sent from this dashboard (missing or wrong CSRF token). Reload the page and try again.');
        const session = authenticator.sessionFor(form.get('token') ?? '');
        if (session === undefined) return render(loginPage(view, safeNext(form.get('next'), base), true));
        appendCookie(res, cookie(SESSION_COOKIE, session, { path: cookiePath, secure }));
        redirect(res, safeNext(form.get('next'), base));
        return;
      }
    }

    const auth = authenticator.check(req, cookies);
    if (!auth.ok) {
      if (auth.scheme === 'basic') {
        res.setHeader('WWW-Authenticate', 'Basic realm="qless", charset="UTF-8"');
        return refuse(401, 'Sign in with the user name and password the dashboard was started with.');
      }
      const wantsPage = method === 'GET' && (segments[0] !== 'events' && segments[0] !== 'fragments' && segments[0] !== 'metrics');
      if (wantsPage) return render(loginPage(view, safeNext(`${base}${path}${url.search}`, base), false));
      res.setHeader('WWW-Authenticate', 'Bearer realm="qless"');
      return refuse(401, 'Authentication required.');
    }

    if (method === 'GET') {
      if (req.method === 'GET' && segments.length === 1 && segments[0] === 'events') return hub.open(res);
      if (metrics && segments.length === 1 && segments[0] === 'metrics') {
        // prom-client is loaded by the first scrape, not by every dashboard.
        const { queueMetrics } = await import('./metrics.js');
        const { type, text } = await queueMetrics(client);
        send(res, 200, type, text, { 'Cache-Control': 'no-store' });
        return;
      }
      const request = (params: readonly string[]): PageRequest => ({ client, view, query: url.searchParams, params, pageSize });
      if (segments.length === 2 && segments[0] === 'fragments' && segments[1] === 'overview') {
        send(res, 200, 'text/html; charset=utf-8', (await overviewSections(request([]))).toString());
        return;
      }
      if (segments.length === 1 && segments[0] === 'search') return search(request([]), res, render);
      const route = match(PAGES, segments);
      const page = route ? await route.handler(request(route.params)) : notFoundPage();
      // The message left by the last action is shown once, then forgotten.
      const flash = decodeFlash(cookies.get(FLASH_COOKIE));
      if (cookies.has(FLASH_COOKIE)) appendCookie(res, cookie(FLASH_COOKIE, '', { path: cookiePath, maxAge: 0, secure }));
      return render(page, flash);
    }

    if (method === 'POST') {
      if (readOnly) return refuse(403, 'This dashboard is read-only.');
      if (!fromSameOrigin(req, trustProxy)) return refuse(403, 'The form was sent from another site.');
      const form = await formOrEmpty(req);
      if (!csrf.verify(sentCsrf, form.get(CSRF_FIELD))) {
        return refuse(403, 'The form was not sent from this dashboard (missing or wrong CSRF token). Reload the page and try again.');
      }
      const route = match(ACTIONS, segments);
      if (!route) return render(notFoundPage('There is no such action.'));
      let result;
      try {
        result = await route.handler({
          client,
          params: route.params,
          form,
          link: (...parts) => (parts.length === 1 && parts[0] === '' ? `${base}/` : href(view, ...parts)),
        });
      } catch (error) {
        // The core or the library refused (a job in the wrong state…): say why, in plain words.
        if (error instanceof QlessError && !isConnectionProblem(error)) return refuse(409, sentence(plainMessage(error)));
        throw error;
      }
      appendCookie(res, cookie(FLASH_COOKIE, encodeFlash(result.flash), { path: cookiePath, maxAge: 60, secure }));
      redirect(res, result.location);
      return;
    }

    res.setHeader('Allow', 'GET, HEAD, POST');
    refuse(405, `Method ${method} is not allowed.`);
  }

  async function search(r: PageRequest, res: ServerResponse, render: (page: Page) => void): Promise<void> {
    const query = (r.query.get('q') ?? '').trim();
    if (query === '') return redirect(res, `${r.view.base}/`);
    const exact = await exactMatch(r.client, query);
    if (exact !== undefined) return redirect(res, href(r.view, exact.kind === 'job' ? 'jobs' : exact.kind === 'queue' ? 'queues' : 'tags', query));
    const found = await searchFor(r.client, query);
    render(foundAnything(found) ? searchResultsPage(r.view, query, found) : searchMissPage(r.view, query));
  }

  function fail(res: ServerResponse, error: unknown, base: string): void {
    const unreachable = isConnectionProblem(error);
    const status = error instanceof HttpError ? error.status : unreachable ? 503 : 500;
    if (status === 500) options.onError?.(error);
    if (res.headersSent) {
      res.destroy();
      return;
    }
    const message = unreachable
      ? `${sentence(plainMessage(error, redisLabel(client)))} This page shows again once Redis answers; reload it in a moment.`
      : error instanceof HttpError
        ? error.message
        : sentence(plainMessage(error));
    setSecurityHeaders(res);
    // An error page carries no forms, so it needs no CSRF token; its footer tells the truth about read-only.
    const view: ViewContext = { base, csrf: '', readOnly, now: client.now(), assets: assetUrls(base), refreshSeconds };
    send(res, status, 'text/html; charset=utf-8', layout(view, errorPage(status, message), undefined).toString());
  }

  const dashboard = ((req: IncomingMessage, res: ServerResponse, next?: (error?: unknown) => void): void => {
    const state = { base: '' };
    handle(req, res, next, state).catch((error: unknown) => fail(res, error, state.base));
  }) as Dashboard;
  Object.defineProperty(dashboard, 'client', { value: client, enumerable: true });
  Object.defineProperty(dashboard, 'close', {
    value: async (): Promise<void> => {
      for (const view of views) {
        await view.hub.close();
        if (view.client !== client) await view.client.close();
      }
      if (owned) await client.close();
    },
  });
  return dashboard;
}

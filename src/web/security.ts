/**
 * Who may use the dashboard and which POSTs are genuine.
 *
 * - Authentication (optional): HTTP basic auth, or a token sent as
 *   `Authorization: Bearer <token>` (scripts) or typed once into the sign-in
 *   form (browsers), which leaves an HttpOnly session cookie derived from
 *   the token, so the token itself is never stored in the browser.
 * - CSRF: every form carries a token that is an HMAC of a random HttpOnly
 *   cookie under a server secret. Another site can make a browser send the
 *   cookie but can neither read it nor compute the HMAC; a cookie planted
 *   through a sibling subdomain is useless without the secret. On top of
 *   that a POST whose Origin (or Sec-Fetch-Site) says it came from
 *   elsewhere is refused before the token is even looked at.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/** Authentication of the dashboard: basic auth, or a shared token. */
export type DashboardAuth = { user: string; password: string } | { token: string };

/** Name of the cookie holding the random value the CSRF token is derived from. */
export const CSRF_COOKIE = 'qless_csrf';
/** Name of the form field carrying the CSRF token. */
export const CSRF_FIELD = '_csrf';
/** Name of the session cookie left by the token sign-in form. */
export const SESSION_COOKIE = 'qless_session';

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/** Compare secrets in constant time (hashing first makes the lengths equal). */
export function sameSecret(a: string, b: string): boolean {
  return timingSafeEqual(digest(a), digest(b));
}

function hmac(key: string | Buffer, text: string): string {
  return createHmac('sha256', key).update(text, 'utf8').digest('base64url');
}

/** What {@link Authenticator.check} decided. */
export type AuthResult = { ok: true } | { ok: false; scheme: 'basic' | 'token' };

/** Checks credentials on every request when authentication is configured. */
export class Authenticator {
  readonly #auth: DashboardAuth | undefined;

  constructor(auth: DashboardAuth | undefined) {
    if (auth && 'token' in auth && auth.token === '') throw new Error('createDashboard: the token must not be empty');
    if (auth && 'user' in auth && (auth.user === '' || auth.password === '')) {
      throw new Error('createDashboard: basic auth needs a user and a password');
    }
    if (auth && 'user' in auth && auth.user.includes(':')) throw new Error('createDashboard: the user name must not contain ":"');
    this.#auth = auth;
  }

  /** True when there is a token sign-in form to show. */
  get usesToken(): boolean {
    return this.#auth !== undefined && 'token' in this.#auth;
  }

  /** The session cookie value a correct token earns (an HMAC keyed by the token: unforgeable without it). */
  sessionFor(token: string): string | undefined {
    const auth = this.#auth;
    if (!auth || !('token' in auth) || !sameSecret(token, auth.token)) return undefined;
    return hmac(auth.token, 'qless-ts-web session');
  }

  check(req: IncomingMessage, cookies: ReadonlyMap<string, string>): AuthResult {
    const auth = this.#auth;
    if (!auth) return { ok: true };
    const header = req.headers.authorization ?? '';
    const space = header.indexOf(' ');
    const scheme = space < 0 ? '' : header.slice(0, space).toLowerCase();
    const credentials = space < 0 ? '' : header.slice(space + 1).trim();
    if ('user' in auth) {
      if (scheme === 'basic') {
        const decoded = Buffer.from(credentials, 'base64').toString('utf8');
        // Both halves are always compared so timing says nothing about which was wrong.
        const colon = decoded.indexOf(':');
        const user = colon < 0 ? decoded : decoded.slice(0, colon);
        const password = colon < 0 ? '' : decoded.slice(colon + 1);
        const userOk = sameSecret(user, auth.user);
        const passwordOk = sameSecret(password, auth.password);
        if (userOk && passwordOk) return { ok: true };
      }
      return { ok: false, scheme: 'basic' };
    }
    if (scheme === 'bearer' && sameSecret(credentials, auth.token)) return { ok: true };
    const session = cookies.get(SESSION_COOKIE);
    if (session !== undefined && sameSecret(session, hmac(auth.token, 'qless-ts-web session'))) return { ok: true };
    return { ok: false, scheme: 'token' };
  }
}

/** Issues and checks CSRF tokens bound to the {@link CSRF_COOKIE} cookie. */
export class CsrfGuard {
  readonly #secret: Buffer;

  /** `secret`: share one between processes serving the same dashboard; default random per process. */
  constructor(secret?: string | Buffer) {
    this.#secret = secret === undefined ? randomBytes(32) : Buffer.isBuffer(secret) ? secret : Buffer.from(secret, 'utf8');
    if (this.#secret.length === 0) throw new Error('createDashboard: the CSRF secret must not be empty');
  }

  /** A fresh random cookie value. */
  newCookie(): string {
    return randomBytes(24).toString('base64url');
  }

  /** The form token that goes with a cookie value. */
  tokenFor(cookieValue: string): string {
    return hmac(this.#secret, `csrf ${cookieValue}`);
  }

  /** True when `submitted` is the token of the request's cookie. */
  verify(cookieValue: string | undefined, submitted: string | null): boolean {
    if (!cookieValue || !submitted) return false;
    return sameSecret(submitted, this.tokenFor(cookieValue));
  }
}

/** The first value of a proxy header (`X-Forwarded-Host: a, b` → `a`: the one the browser's request carried). */
export function forwarded(req: IncomingMessage, name: 'x-forwarded-host' | 'x-forwarded-proto'): string | undefined {
  const value = req.headers[name];
  const first = (Array.isArray(value) ? value[0] : value)?.split(',')[0]?.trim().toLowerCase();
  return first === '' ? undefined : first;
}

/**
 * False when the browser says the request came from another site: an
 * `Origin` whose host is not ours (or the opaque `null` origin), or a
 * `Sec-Fetch-Site` other than same-origin. Absent headers (old browsers,
 * scripts) leave the decision to the CSRF token.
 *
 * "Ours" is the `Host` header. A reverse proxy that rewrites it says the
 * original in `X-Forwarded-Host` (and the scheme in `X-Forwarded-Proto`),
 * but anyone who reaches the dashboard directly can send those too, so they
 * count only with `trustProxy` (set it only when every request comes
 * through a proxy that sets them).
 */
export function fromSameOrigin(req: IncomingMessage, trustProxy = false): boolean {
  const site = req.headers['sec-fetch-site'];
  if (typeof site === 'string' && site !== 'same-origin' && site !== 'none') return false;
  const origin = req.headers.origin;
  if (origin === undefined) return true;
  if (origin === 'null') return false;
  let parsed: URL;
  try {
    parsed = new URL(origin);
  } catch {
    return false;
  }
  const host = parsed.host.toLowerCase();
  if (req.headers.host?.trim().toLowerCase() === host) return true;
  if (!trustProxy) return false;
  const proto = forwarded(req, 'x-forwarded-proto');
  if (proto !== undefined && `${proto}:` !== parsed.protocol) return false;
  return forwarded(req, 'x-forwarded-host') === host;
}

/**
 * Plain node:http plumbing the dashboard needs and nothing more: cookies,
 * form bodies, and the headers every response carries. Kept free of qless
 * so the security rules can be read in one place with security.ts.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

/** A request as the dashboard sees it: node's, or Express's / Fastify's which extend it. */
export type Request = IncomingMessage & {
  /** Express: the path the router was mounted at (`app.use('/qless', …)`). */
  baseUrl?: unknown;
  /** Express with a body parser: the parsed form. */
  body?: unknown;
};

/** Largest form body accepted (the biggest form is a config value). */
export const MAX_BODY = 64 * 1024;

/** An HTTP error raised while handling a request; `status` becomes the response status. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** Cookies of a request (first value wins, as browsers send the most specific path first). */
export function parseCookies(header: string | undefined): Map<string, string> {
  const cookies = new Map<string, string>();
  if (!header) return cookies;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const name = part.slice(0, eq).trim();
    if (name === '' || cookies.has(name)) continue;
    let value = part.slice(eq + 1).trim();
    if (value.startsWith('"') && value.endsWith('"') && value.length >= 2) value = value.slice(1, -1);
    try {
      cookies.set(name, decodeURIComponent(value));
    } catch {
      // A malformed cookie set by something else is ignored, not fatal.
    }
  }
  return cookies;
}

/** Options of {@link cookie}. */
export interface CookieOptions {
  path: string;
  /** Seconds; 0 deletes the cookie; omitted makes a session cookie. */
  maxAge?: number;
  secure: boolean;
}

/**
 * A Set-Cookie value. Every cookie of the dashboard is HttpOnly (no script
 * needs one) and SameSite=Strict (no other site may make the browser send it).
 */
export function cookie(name: string, value: string, options: CookieOptions): string {
  let text = `${name}=${encodeURIComponent(value)}; Path=${options.path}; HttpOnly; SameSite=Strict`;
  if (options.maxAge !== undefined) text += `; Max-Age=${options.maxAge}`;
  if (options.secure) text += '; Secure';
  return text;
}

/** Add a Set-Cookie header without dropping the ones already set. */
export function appendCookie(res: ServerResponse, value: string): void {
  const current = res.getHeader('Set-Cookie');
  const list = current === undefined ? [] : Array.isArray(current) ? current : [String(current)];
  res.setHeader('Set-Cookie', [...list, value]);
}

/** True when the request reached us over TLS (directly, not through a proxy we cannot vouch for). */
export function isTls(req: IncomingMessage): boolean {
  return Boolean((req.socket as { encrypted?: boolean }).encrypted);
}

function formFromObject(body: object): URLSearchParams {
  const form = new URLSearchParams();
  for (const [key, value] of Object.entries(body)) {
    if (typeof value === 'string') form.append(key, value);
    else if (Array.isArray(value)) for (const v of value) if (typeof v === 'string') form.append(key, v);
  }
  return form;
}

/**
 * The submitted form. A body already parsed by the host framework (Express's
 * `urlencoded()`, @fastify/formbody) is used as is, since its stream has been
 * consumed; otherwise the stream is read, up to {@link MAX_BODY} bytes.
 */
export async function readForm(req: Request): Promise<URLSearchParams> {
  if (typeof req.body === 'string') return new URLSearchParams(req.body);
  if (typeof req.body === 'object' && req.body !== null && !Buffer.isBuffer(req.body)) return formFromObject(req.body);
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/x-www-form-urlencoded') {
    throw new HttpError(415, 'forms must be sent as application/x-www-form-urlencoded');
  }
  if (Buffer.isBuffer(req.body)) return new URLSearchParams(req.body.toString('utf8'));
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
    size += buffer.length;
    if (size > MAX_BODY) throw new HttpError(413, 'form too large');
    chunks.push(buffer);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

/**
 * Content-Security-Policy of every response: scripts and styles only from
 * our own asset files (no inline script can run even if escaping failed
 * somewhere), forms only to us, and no framing (clickjacking).
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join('; ');

/** Headers every dashboard response carries, errors included. */
export function setSecurityHeaders(res: ServerResponse): void {
  res.setHeader('Content-Security-Policy', CONTENT_SECURITY_POLICY);
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('X-Frame-Options', 'DENY');
  res.setHeader('Referrer-Policy', 'same-origin');
  res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
  res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
}

/** Send a complete response. */
export function send(res: ServerResponse, status: number, type: string, body: string | Buffer, headers: Record<string, string> = {}): void {
  const buffer = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  res.statusCode = status;
  res.setHeader('Content-Type', type);
  res.setHeader('Content-Length', String(buffer.length));
  if (!res.hasHeader('Cache-Control')) res.setHeader('Cache-Control', 'no-store');
  for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
  res.end(buffer);
}

/** POST-redirect-GET: 303 so the browser follows with a GET. */
export function redirect(res: ServerResponse, location: string): void {
  res.statusCode = 303;
  res.setHeader('Location', location);
  res.setHeader('Cache-Control', 'no-store');
  res.end();
}

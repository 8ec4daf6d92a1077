/**
 * What every view needs to know about the request it renders for: where the
 * dashboard is mounted (links), the CSRF token (forms), whether actions are
 * shown at all, and the time (relative dates).
 */
import type { Client } from '../../client.js';

export interface ViewContext {
  /** The mount path, `''` at the root or e.g. `/qless`; every link starts with it. */
  base: string;
  /** The token every form posts back as `_csrf`. */
  csrf: string;
  /** Hide every action (the server refuses them anyway). */
  readOnly: boolean;
  /** The client's clock, in seconds since the epoch. */
  now: number;
  /** URL of the stylesheet and of the script (fingerprinted for caching). */
  assets: { css: string; js: string };
  /** Seconds between two refreshes of live sections when no event arrives. */
  refreshSeconds: number;
  /**
   * With more than one namespace to show: each one's home page, the
   * current one marked (the header offers a switch). `base` is then the
   * current namespace's own mount path.
   */
  namespaces?: ReadonlyArray<{ name: string; home: string; current: boolean }>;
}

/** A path inside the dashboard; every segment is URL-encoded, so names may hold `/`, `?` or `<`. */
export function href(ctx: ViewContext, ...segments: readonly string[]): string {
  return `${ctx.base}/${segments.map(encodeURIComponent).join('/')}`;
}

/** A path with a query string; undefined parameters are left out. */
export function withQuery(path: string, params: Readonly<Record<string, string | number | undefined>>): string {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value !== undefined) query.set(key, String(value));
  const text = query.toString();
  return text === '' ? path : `${path}?${text}`;
}

/** What a page handler gets: the client to read through, the view context, and the request's inputs. */
export interface PageRequest {
  client: Client;
  view: ViewContext;
  query: URLSearchParams;
  /** The decoded path parameters of the route (a queue name, a jid…). */
  params: readonly string[];
  /** Rows per page of every paginated list. */
  pageSize: number;
}

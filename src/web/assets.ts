/**
 * The two static files the pages load. They are compiled into the package
 * (no files to locate at run time, no build step for users) and served with
 * a content hash in their URL, so browsers may cache them for good.
 */
import { createHash } from 'node:crypto';
import { SCRIPT } from './assets/script.js';
import { STYLE } from './assets/style.js';

export interface Asset {
  type: string;
  body: Buffer;
  /** Short content hash, part of the URL. */
  hash: string;
}

function asset(type: string, text: string): Asset {
  const body = Buffer.from(text, 'utf8');
  return { type, body, hash: createHash('sha256').update(body).digest('hex').slice(0, 12) };
}

/** The assets by file name (under `<base>/assets/`). */
export const ASSETS: ReadonlyMap<string, Asset> = new Map([
  ['app.css', asset('text/css; charset=utf-8', STYLE)],
  ['app.js', asset('text/javascript; charset=utf-8', SCRIPT)],
]);

/** Fingerprinted URLs of the stylesheet and the script. */
export function assetUrls(base: string): { css: string; js: string } {
  return {
    css: `${base}/assets/app.css?v=${ASSETS.get('app.css')!.hash}`,
    js: `${base}/assets/app.js?v=${ASSETS.get('app.js')!.hash}`,
  };
}

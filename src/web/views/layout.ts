/**
 * The page shell: head (stylesheet and script from our own asset URLs, no
 * inline code), the navigation with the search box, the flash message left
 * by the last action, and the footer.
 */
import { html, type HtmlValue, type SafeHtml } from '../html.js';
import { href, type ViewContext } from './context.js';

/** What a flash message reports: success, a refusal, or success with a caveat. */
export type FlashKind = 'ok' | 'error' | 'warning';

/** A one-shot message shown after an action (POST-redirect-GET). */
export interface Flash {
  kind: FlashKind;
  text: string;
}

/** Navigation sections; `section` of a page marks its entry as current. */
export type Section = 'overview' | 'queues' | 'failed' | 'workers' | 'tags' | 'tracked' | 'completed' | 'recurring' | 'throttles' | 'config' | 'none';

const NAV: ReadonlyArray<readonly [Exclude<Section, 'none'>, string, string]> = [
  ['overview', 'Overview', ''],
  ['queues', 'Queues', 'queues'],
  ['failed', 'Failed', 'failed'],
  ['workers', 'Workers', 'workers'],
  ['tags', 'Tags', 'tags'],
  ['tracked', 'Tracked', 'tracked'],
  ['completed', 'Completed', 'completed'],
  ['recurring', 'Recurring', 'recurring'],
  ['throttles', 'Throttles', 'throttles'],
  ['config', 'Config', 'config'],
];

/** A rendered page: its title (for <title> and <h1>) and its body. */
export interface Page {
  title: string;
  section: Section;
  body: HtmlValue;
  /** HTTP status (200 unless said otherwise). */
  status?: number;
  /** Reload the whole page every `refreshSeconds` (asked for with `?refresh=on`, see autoRefresh). */
  reload?: boolean;
}

export function layout(ctx: ViewContext, page: Page, flash: Flash | undefined): SafeHtml {
  const nav = NAV.map(([key, label, path]) => {
    const url = path === '' ? `${ctx.base}/` : href(ctx, path);
    return html`<a href="${url}"${page.section === key ? html` aria-current="page"` : ''}>${label}</a>`;
  });
  // Several namespaces: a switch between their dashboards (each keeps its own links).
  const namespaces = ctx.namespaces && ctx.namespaces.length > 1
    ? html`<nav class="nav namespaces" aria-label="Namespaces">${ctx.namespaces.map(
      (ns) => html`<a href="${ns.home}"${ns.current ? html` aria-current="true"` : ''}>${ns.name}</a>`,
    )}</nav>`
    : '';
  const current = ctx.namespaces?.find((ns) => ns.current);
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="same-origin">
${page.reload ? html`<meta http-equiv="refresh" content="${ctx.refreshSeconds}">
` : ''}<title>${page.title} · ${current ? `${current.name} · ` : ''}qless</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="${ctx.assets.css}">
<script src="${ctx.assets.js}" defer></script>
</head>
<body data-refresh="${ctx.refreshSeconds}">
<header class="top">
  <a class="brand" href="${ctx.base}/">qless</a>
  <nav class="nav" aria-label="Sections">${nav}</nav>
  ${namespaces}
  <form class="search" method="get" action="${href(ctx, 'search')}" role="search">
    <input type="search" name="q" placeholder="jid, queue, klass or tag" aria-label="Find jobs by jid or jid prefix, a queue, a klass name or a tag" required>
    <button type="submit" class="btn">Find</button>
  </form>
</header>
${flash ? html`<div class="flash flash-${flash.kind}" role="${flash.kind === 'ok' ? 'status' : 'alert'}">${flash.text}</div>` : ''}
<main id="main">
${page.body}
</main>
<footer class="foot">qless-ts dashboard${ctx.readOnly ? html` · <strong>read-only</strong>` : ''}</footer>
</body>
</html>
`;
}

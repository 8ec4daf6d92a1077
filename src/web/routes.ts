/**
 * The route table: which page renders a GET and which action runs for a
 * POST. Paths are matched segment by segment after URL-decoding each one
 * on its own, so a queue, tag or group name may contain `/`, `?` or `#`
 * (its links encode it). `:` stands for one parameter.
 */
import * as actions from './actions.js';
import type { Action } from './actions.js';
import type { PageRequest } from './views/context.js';
import { configPage } from './views/config.js';
import { failedGroupPage, failedPage } from './views/failed.js';
import { jobPage } from './views/job.js';
import type { Page } from './views/layout.js';
import { completedPage, trackedPage } from './views/lists.js';
import { overviewPage, queuesPage } from './views/overview.js';
import { queuePage } from './views/queue.js';
import { recurringPage } from './views/recurring.js';
import { tagPage, tagsPage } from './views/tags.js';
import { throttlesPage } from './views/throttles.js';
import { workerPage, workersPage } from './views/workers.js';

export type PageHandler = (r: PageRequest) => Promise<Page>;

interface Route<H> {
  pattern: readonly string[];
  handler: H;
}

export const PAGES: ReadonlyArray<Route<PageHandler>> = [
  { pattern: [], handler: overviewPage },
  { pattern: ['queues'], handler: queuesPage },
  { pattern: ['queues', ':'], handler: queuePage },
  { pattern: ['jobs', ':'], handler: jobPage },
  { pattern: ['failed'], handler: failedPage },
  { pattern: ['failed', ':'], handler: failedGroupPage },
  { pattern: ['workers'], handler: workersPage },
  { pattern: ['workers', ':'], handler: workerPage },
  { pattern: ['tags'], handler: tagsPage },
  { pattern: ['tags', ':'], handler: tagPage },
  { pattern: ['tracked'], handler: trackedPage },
  { pattern: ['completed'], handler: completedPage },
  { pattern: ['recurring'], handler: recurringPage },
  { pattern: ['config'], handler: configPage },
  { pattern: ['throttles'], handler: throttlesPage },
];

export const ACTIONS: ReadonlyArray<Route<Action>> = [
  { pattern: ['queues', ':', 'pause'], handler: actions.pauseQueue },
  { pattern: ['queues', ':', 'unpause'], handler: actions.unpauseQueue },
  { pattern: ['jobs', ':', 'retry'], handler: actions.retryJob },
  { pattern: ['jobs', ':', 'cancel'], handler: actions.cancelJob },
  { pattern: ['jobs', ':', 'move'], handler: actions.moveJob },
  { pattern: ['jobs', ':', 'priority'], handler: actions.setPriority },
  { pattern: ['jobs', ':', 'tag'], handler: actions.tagJob },
  { pattern: ['jobs', ':', 'untag'], handler: actions.untagJob },
  { pattern: ['jobs', ':', 'track'], handler: actions.trackJob },
  { pattern: ['jobs', ':', 'untrack'], handler: actions.untrackJob },
  { pattern: ['jobs', ':', 'unrecur'], handler: actions.unrecur },
  { pattern: ['failed', ':', 'retry'], handler: actions.retryGroup },
  { pattern: ['failed', ':', 'cancel'], handler: actions.cancelGroup },
  { pattern: ['failed', ':', 'selected'], handler: actions.actOnSelected },
  { pattern: ['workers', ':', 'forget'], handler: actions.forgetWorker },
  { pattern: ['config'], handler: actions.setConfig },
  { pattern: ['config', 'unset'], handler: actions.unsetConfig },
  { pattern: ['throttles'], handler: actions.setThrottle },
  { pattern: ['throttles', 'delete'], handler: actions.deleteThrottle },
  { pattern: ['queues', ':', 'rate-limit'], handler: actions.setRateLimit },
];

/** The route matching these decoded segments, with its parameters. */
export function match<H>(routes: ReadonlyArray<Route<H>>, segments: readonly string[]): { handler: H; params: string[] } | undefined {
  for (const route of routes) {
    if (route.pattern.length !== segments.length) continue;
    const params: string[] = [];
    const fits = route.pattern.every((part, i) => {
      const segment = segments[i]!;
      if (part === ':') {
        params.push(segment);
        return segment !== '';
      }
      return part === segment;
    });
    if (fits) return { handler: route.handler, params };
  }
  return undefined;
}

/**
 * The decoded segments of a path under the dashboard (`/queues/a%2Fb` →
 * `['queues', 'a/b']`); a trailing slash is ignored. Undefined when a
 * segment is not valid percent-encoding.
 */
export function segmentsOf(path: string): string[] | undefined {
  const parts = path.split('/').slice(1);
  if (parts.length > 0 && parts[parts.length - 1] === '') parts.pop();
  try {
    return parts.map((part) => decodeURIComponent(part));
  } catch {
    return undefined;
  }
}

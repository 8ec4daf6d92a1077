/**
 * qless-ts-web as a library: `createDashboard()` returns a request handler
 * to serve on its own (see src/cli/web.ts) or mount in an existing node:http,
 * Express or Fastify server.
 *
 * ```ts
 * import { createServer } from 'node:http';
 * import { createDashboard } from 'qless-ts/web';
 * const dashboard = createDashboard({ redis: 'redis://127.0.0.1:6379', prefix: '/qless' });
 * createServer(dashboard).listen(5678, '127.0.0.1');
 * ```
 */
export { createDashboard, type Dashboard, type DashboardOptions } from './dashboard.js';
export type { DashboardAuth } from './security.js';

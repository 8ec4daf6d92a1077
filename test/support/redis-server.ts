// The private redis-server launcher lives in src/dev so the benchmark and the
// examples' quickstart can use it too.
export { RedisServer, FORBIDDEN_PORT } from '../../src/dev/redis-server.js';

/**
 * A put's producer span when @opentelemetry/api is installed: skipped while
 * it would carry nothing (no tracer provider, no active span), made as soon
 * as either appears.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { context, ROOT_CONTEXT, trace, type Context, type ContextManager } from '@opentelemetry/api';
import { BasicTracerProvider } from '@opentelemetry/sdk-trace-base';
import { afterEach, describe, expect, it } from 'vitest';
import { useClients } from './support/client.js';
import { useRedis } from './support/redis.js';

const ctx = useRedis();
const make = useClients(ctx);

/** The smallest context manager that carries a context through awaits (the SDK's own is not installed here). */
class StorageContextManager implements ContextManager {
  readonly #storage = new AsyncLocalStorage<Context>();
  active(): Context {
    return this.#storage.getStore() ?? ROOT_CONTEXT;
  }
  with<A extends unknown[], F extends (...args: A) => ReturnType<F>>(scope: Context, fn: F, thisArg?: ThisParameterType<F>, ...args: A): ReturnType<F> {
    return this.#storage.run(scope, () => fn.call(thisArg, ...args));
  }
  bind<T>(_scope: Context, target: T): T {
    return target;
  }
  enable(): this {
    return this;
  }
  disable(): this {
    this.#storage.disable();
    return this;
  }
}

// Only the context manager is dropped between tests: trace.disable() would
// also drop the proxy provider the library's tracer was taken from.
afterEach(() => {
  context.disable();
});

const TRACE_ID = '0af7651916cd43dd8448eb211c80319c';
const SPAN_ID = 'b7ad6b7169203331';

describe('producer spans of puts', () => {
  it('sends no trace while nothing is traced, and the active span context once there is one', async () => {
    const client = make();
    const queue = client.queue('q');
    const plain = await queue.put('k.K', {});
    const again = await queue.put('k.K', {});
    expect(await ctx.redis.hexists(`ql:j:${plain}`, 'trace')).toBe(0);
    expect(await ctx.redis.hexists(`ql:j:${again}`, 'trace')).toBe(0);

    // No provider, but a span context is active: the no-op span takes it on and it travels.
    context.setGlobalContextManager(new StorageContextManager());
    const parent = trace.setSpanContext(ROOT_CONTEXT, { traceId: TRACE_ID, spanId: SPAN_ID, traceFlags: 1 });
    const child = await context.with(parent, () => queue.put('k.K', {}));
    const carried = JSON.parse((await ctx.redis.hget(`ql:j:${child}`, 'trace'))!) as { traceparent: string };
    expect(carried.traceparent).toBe(`00-${TRACE_ID}-${SPAN_ID}-01`);
    // Outside it, nothing again.
    const outside = await queue.put('k.K', {});
    expect(await ctx.redis.hexists(`ql:j:${outside}`, 'trace')).toBe(0);
  });

  it('uses a tracer provider registered after the first puts from the next put on', async () => {
    const client = make();
    const queue = client.queue('q');
    const before = await queue.put('k.K', {});
    expect(await ctx.redis.hexists(`ql:j:${before}`, 'trace')).toBe(0);
    trace.setGlobalTracerProvider(new BasicTracerProvider());
    const after = await queue.put('k.K', {});
    const carried = JSON.parse((await ctx.redis.hget(`ql:j:${after}`, 'trace'))!) as { traceparent: string };
    expect(carried.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
  });
});

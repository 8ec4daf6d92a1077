/**
 * Traces with OpenTelemetry: with an SDK registered (an in-memory exporter
 * here, a file exporter in the worker's children), a put makes a producer
 * span whose context travels with the job, and the real worker runs the job
 * inside a consumer span linked to it, with its jid, queue, klass, attempt
 * and outcome. Without a registered SDK nothing travels with the job.
 */
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { describe, expect, it } from 'vitest';
import * as qless from '../src/index.js';
import { useRedis } from './support/redis.js';
import { FIXTURES, ROOT, until, useWorkers } from './worker.harness.js';

const ctx = useRedis();
const workers = useWorkers();

interface SpanLine {
  name: string;
  kind: number;
  traceId: string;
  spanId: string;
  attributes: Record<string, unknown>;
  status: { code: number; message?: string };
  links: Array<{ traceId: string; spanId: string }>;
}

describe('OpenTelemetry traces', { timeout: 60_000 }, () => {
  it('a put and its job\'s run show up as linked spans', async () => {
    const client = qless.client(ctx.url);
    const queue = client.queue('traced');
    // No SDK registered yet: the API's no-op spans carry nothing.
    const untraced = await queue.put('observe.Talk', {});
    expect(await ctx.redis.hexists(`ql:j:${untraced}`, 'trace')).toBe(0);

    const exporter = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
    trace.setGlobalTracerProvider(provider);
    try {
      const ok = await queue.put('observe.Talk', {});
      const boom = await queue.put('observe.Boom', {});
      const produced = exporter.getFinishedSpans();
      expect(produced.map((s) => [s.name, s.kind, s.attributes['qless.jid']])).toEqual([
        ['publish traced', SpanKind.PRODUCER, ok],
        ['publish traced', SpanKind.PRODUCER, boom],
      ]);
      expect(produced[0]!.attributes).toMatchObject({ 'messaging.system': 'qless', 'qless.queue': 'traced', 'qless.klass': 'observe.Talk' });
      // The context is in the hash, and not in what `get` says.
      expect(JSON.parse((await ctx.redis.hget(`ql:j:${ok}`, 'trace'))!)).toMatchObject({ traceparent: `00-${produced[0]!.spanContext().traceId}-${produced[0]!.spanContext().spanId}-01` });
      expect(Object.keys(JSON.parse(String(await client.call('get', ok))) as object)).not.toContain('trace');

      const spansFile = join(workers.tmp(), 'spans.jsonl');
      workers.start(['--host', ctx.url, '-p', FIXTURES, '-q', 'traced', '-w', '1', '-i', '0.2', '--import', join(ROOT, 'test', 'fixtures', 'preload', 'otel.mjs')], {
        env: { QLESS_TEST_SPANS_FILE: spansFile },
      });
      const spans = (): SpanLine[] => (existsSync(spansFile) ? readFileSync(spansFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as SpanLine) : []);
      await until(() => spans().length === 3, 30_000, () => `three consumer spans (${spans().length} so far)`);

      const consumer = (jid: string): SpanLine => spans().find((s) => s.attributes['qless.jid'] === jid)!;
      const run = consumer(ok);
      expect(run).toMatchObject({
        name: 'process traced',
        kind: SpanKind.CONSUMER,
        attributes: { 'qless.jid': ok, 'qless.queue': 'traced', 'qless.klass': 'observe.Talk', 'qless.attempt': 1, 'qless.outcome': 'complete' },
        links: [{ traceId: produced[0]!.spanContext().traceId, spanId: produced[0]!.spanContext().spanId }],
      });
      const failed = consumer(boom);
      expect(failed.attributes['qless.outcome']).toBe('fail');
      expect(failed.status).toMatchObject({ code: SpanStatusCode.ERROR, message: 'traced-Error' });
      expect(failed.links).toEqual([{ traceId: produced[1]!.spanContext().traceId, spanId: produced[1]!.spanContext().spanId }]);
      // The job put without a context runs in a span of its own, linked to nothing.
      expect(consumer(untraced).links).toEqual([]);
    } finally {
      trace.disable();
      await provider.shutdown();
      await client.close();
    }
  });

  it('without @opentelemetry/api installed, a put sends nothing more and the client knows it has no API', async () => {
    // A copy of the package whose node_modules lacks @opentelemetry.
    const dir = workers.tmp('qless-no-otel-');
    cpSync(join(ROOT, 'dist'), join(dir, 'dist'), { recursive: true });
    cpSync(join(ROOT, 'package.json'), join(dir, 'package.json'));
    mkdirSync(join(dir, 'node_modules'));
    for (const entry of readdirSync(join(ROOT, 'node_modules'))) {
      if (entry !== '@opentelemetry' && entry !== '.bin') symlinkSync(join(ROOT, 'node_modules', entry), join(dir, 'node_modules', entry));
    }
    writeFileSync(join(dir, 'put.mjs'), [
      "import * as qless from './dist/index.js';",
      "import { otelNow } from './dist/tracing.js';",
      'const client = qless.client(process.argv[2]);',
      "const jids = [await client.queue('bare').put('K', {}), await client.queue('bare').put('K', {})];",
      'console.log(JSON.stringify({ jids, api: otelNow() }));',
      'await client.close();',
    ].join('\n'));
    const out = await new Promise<string>((resolve, reject) => {
      execFile(process.execPath, [join(dir, 'put.mjs'), ctx.url], { cwd: dir }, (error, stdout, stderr) => (error ? reject(new Error(`${error.message}\n${stderr}`)) : resolve(stdout)));
    });
    const { jids, api } = JSON.parse(out) as { jids: string[]; api: unknown };
    expect(api).toBeNull();
    for (const jid of jids) expect(await ctx.redis.hexists(`ql:j:${jid}`, 'trace')).toBe(0);
  });
});

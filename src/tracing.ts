/**
 * OpenTelemetry, when the application has it: `@opentelemetry/api` is an
 * optional peer dependency, imported once (dynamically) the first time a
 * job is put or a worker child starts. Without it nothing else happens:
 * no span, no extra argument to the core, no extra field on the job.
 *
 * A put makes a producer span (`publish <queue>`) and sends its context to
 * the core as the put's `trace` option: the core keeps it in the job's hash,
 * where no job reply shows it (get, peek, track…), and hands it only to the
 * worker that pops the job (`pop.raw`). The worker runs the job inside a
 * consumer span linked to it (src/worker/tracing.ts).
 *
 * The context is carried as W3C `traceparent` (written here from the span
 * itself, so that it travels even without a registered propagator), plus
 * whatever the application's propagator adds (`tracestate`, baggage).
 */
import type * as OtelApi from '@opentelemetry/api';

export type Otel = typeof OtelApi;

/** The package name, in a variable: bundlers and type checks must not require it. */
const PACKAGE = '@opentelemetry/api';

let api: Otel | null | undefined;
let loading: Promise<Otel | null> | undefined;
let tracer: OtelApi.Tracer | undefined;

/** The API, or null without the package; undefined until the one import has settled. */
export function otelNow(): Otel | null | undefined {
  return api;
}

/** Import the API once. */
export function loadOtel(): Promise<Otel | null> {
  if (api !== undefined) return Promise.resolve(api);
  loading ??= import(PACKAGE).then(
    (module: Otel & { default?: Otel }) => (api = typeof module.trace === 'object' ? module : module.default ?? null),
    () => (api = null),
  );
  return loading;
}

/**
 * The library's tracer. The API hands out a proxy that follows whatever
 * provider the application registers, also later, so one is enough.
 */
export function qlessTracer(otel: Otel): OtelApi.Tracer {
  tracer ??= otel.trace.getTracer('qless-ts');
  return tracer;
}

// The provider a ProxyTracerProvider hands over while the application has
// registered none (the API's own no-op one), found once.
let noopProvider: OtelApi.TracerProvider | undefined;

/**
 * Whether a producer span would be a no-op that carries nothing: no tracer
 * provider is registered (the global one is still the API's proxy with no
 * delegate) and no span context is active that a no-op span would take on.
 * A put then need not make one. Checked at every put, so a provider
 * registered later is used from the next put on.
 */
export function tracingIdle(otel: Otel): boolean {
  const provider = otel.trace.getTracerProvider();
  if (!(provider instanceof otel.ProxyTracerProvider)) return false;
  noopProvider ??= new otel.ProxyTracerProvider().getDelegate();
  return provider.getDelegate() === noopProvider && otel.trace.getSpanContext(otel.context.active()) === undefined;
}

/** Attribute names shared by producer and consumer spans. */
export const ATTR = {
  system: 'messaging.system',
  destination: 'messaging.destination.name',
  messageId: 'messaging.message.id',
  operation: 'messaging.operation.type',
  jid: 'qless.jid',
  queue: 'qless.queue',
  klass: 'qless.klass',
  attempt: 'qless.attempt',
  outcome: 'qless.outcome',
} as const;

/** W3C traceparent of a span context. */
export function traceparent(context: OtelApi.SpanContext): string {
  return `00-${context.traceId}-${context.spanId}-${(context.traceFlags & 0xff).toString(16).padStart(2, '0')}`;
}

/** A span context from a W3C traceparent, or undefined when it is not one. */
export function parseTraceparent(text: unknown): OtelApi.SpanContext | undefined {
  if (typeof text !== 'string') return undefined;
  const m = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/.exec(text.trim());
  if (!m || m[1] === 'ff' || /^0+$/.test(m[2]!) || /^0+$/.test(m[3]!)) return undefined;
  return { traceId: m[2]!, spanId: m[3]!, traceFlags: parseInt(m[4]!, 16), isRemote: true };
}

/**
 * Run a put inside a producer span: `send` gets the `trace` option's value
 * (undefined when there is nothing to carry). Without the API, `send`
 * runs as is.
 */
export async function producerSpan(queue: string, jid: string, klass: string, send: (trace: string | undefined) => Promise<string>): Promise<string> {
  const otel = api === undefined ? await loadOtel() : api;
  if (otel === null) return send(undefined);
  const span = qlessTracer(otel).startSpan(`publish ${queue}`, {
    kind: otel.SpanKind.PRODUCER,
    attributes: {
      [ATTR.system]: 'qless', [ATTR.operation]: 'send', [ATTR.destination]: queue, [ATTR.messageId]: jid,
      [ATTR.jid]: jid, [ATTR.queue]: queue, [ATTR.klass]: klass,
    },
  });
  const context = span.spanContext();
  let trace: string | undefined;
  if (otel.trace.isSpanContextValid(context)) {
    const carrier: Record<string, string> = {};
    otel.propagation.inject(otel.trace.setSpan(otel.context.active(), span), carrier);
    carrier['traceparent'] = traceparent(context);
    trace = JSON.stringify(carrier);
  }
  try {
    return await send(trace);
  } catch (error) {
    span.recordException(error instanceof Error ? error : String(error));
    span.setStatus({ code: otel.SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
    throw error;
  } finally {
    span.end();
  }
}

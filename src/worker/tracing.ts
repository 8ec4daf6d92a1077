/**
 * The worker's side of tracing (see src/tracing.ts): each job runs inside a
 * consumer span, `process <queue>`, linked to the span that put it when the
 * job carries a trace context, with the job's jid, queue, klass and attempt
 * as attributes and its outcome once it is known. The span is the active
 * one while the job's code runs (spans the code makes are its children,
 * given a context manager such as @opentelemetry/context-async-hooks).
 *
 * A child asks for the API once when it starts; without it the runner gets
 * no Tracing and does nothing more per job.
 */
import type { Job } from '../job.js';
import { ATTR, loadOtel, parseTraceparent, qlessTracer, tracingIdle, type Otel } from '../tracing.js';
import type { RunReport } from './runner.js';

/** The span of one run. */
export interface JobSpan {
  /** Run the job's code with the span active. */
  run(code: () => Promise<void>): Promise<void>;
  /** Record the outcome and end the span. */
  end(report: RunReport): void;
}

export interface Tracing {
  start(job: Job): JobSpan;
}

/** The producer's span context carried by a job, if any. */
function producerContext(job: Job): ReturnType<typeof parseTraceparent> {
  if (job.traceContext === undefined) return undefined;
  try {
    const carrier = JSON.parse(job.traceContext) as { traceparent?: unknown };
    return parseTraceparent(carrier.traceparent);
  } catch {
    return undefined;
  }
}

/** The span of a run when no SDK records anything. */
const NO_SPAN: JobSpan = {
  run: (code) => code(),
  end: () => undefined,
};

class OtelTracing implements Tracing {
  readonly #otel: Otel;

  constructor(otel: Otel) {
    this.#otel = otel;
  }

  start(job: Job): JobSpan {
    const otel = this.#otel;
    // No provider registered and no span active: the span below would be a
    // no-op with an invalid context (NO_SPAN), whatever the job carries;
    // known without making it. Checked per job, so a provider registered
    // later is used from the next job on.
    if (tracingIdle(otel)) return NO_SPAN;
    const producer = producerContext(job);
    const span = qlessTracer(otel).startSpan(`process ${job.queue}`, {
      kind: otel.SpanKind.CONSUMER,
      attributes: {
        [ATTR.system]: 'qless', [ATTR.operation]: 'process', [ATTR.destination]: job.queue, [ATTR.messageId]: job.jid,
        [ATTR.jid]: job.jid, [ATTR.queue]: job.queue, [ATTR.klass]: job.klass, [ATTR.attempt]: job.attempt,
      },
      ...(producer ? { links: [{ context: producer }] } : {}),
    });
    // No SDK registered (the API alone, as when it is only installed as a
    // dependency): the span is a no-op with an invalid context, and so would
    // be every span the job's code starts under it. Running the code inside
    // it would only cost time, on every job.
    if (!otel.trace.isSpanContextValid(span.spanContext())) return NO_SPAN;
    return {
      run: (code) => otel.context.with(otel.trace.setSpan(otel.context.active(), span), code),
      end: (report) => {
        span.setAttribute(ATTR.outcome, report.outcome);
        if (report.outcome === 'fail' || report.outcome === 'timeout') {
          if (report.error) span.recordException(report.error);
          span.setStatus({ code: otel.SpanStatusCode.ERROR, message: report.group ?? report.outcome });
        }
        span.end();
      },
    };
  }
}

/** Tracing for this process, or undefined without @opentelemetry/api. */
export async function loadTracing(): Promise<Tracing | undefined> {
  const otel = await loadOtel();
  return otel ? new OtelTracing(otel) : undefined;
}

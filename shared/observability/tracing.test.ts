import { context, propagation, trace } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import { captureTraceContext } from './trace-context.js';
import { startTracing, tracingRequested } from './tracing.js';

describe('tracingRequested', () => {
  it.each([
    [{}, false],
    [{ OTEL_TRACES_EXPORTER: '' }, false],
    [{ OTEL_TRACES_EXPORTER: 'none' }, false],
    [{ OTEL_TRACES_EXPORTER: 'zipkin' }, false],
    [{ OTEL_TRACES_EXPORTER: 'otlp' }, true],
    [{ OTEL_TRACES_EXPORTER: 'console' }, true],
    [{ OTEL_TRACES_EXPORTER: 'otlp,console' }, true],
    [{ OTEL_TRACES_EXPORTER: ' OTLP ' }, true],
    [{ OTEL_TRACES_EXPORTER: 'otlp,none' }, false],
    [{ OTEL_TRACES_EXPORTER: 'otlp', OTEL_SDK_DISABLED: 'true' }, false],
    [{ OTEL_TRACES_EXPORTER: 'otlp', OTEL_SDK_DISABLED: 'false' }, true],
  ])('when the environment is %o, then tracing is on: %s', (env, on) => {
    expect(tracingRequested(env)).toBe(on);
  });
});

describe('startTracing when OTEL_TRACES_EXPORTER is unset', () => {
  it('then nothing is registered: spans do not record, no context is carried, and stopping is a no-op', async () => {
    const stop = await startTracing('inventory-service', { env: { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:1' } });
    const span = trace.getTracer('test').startSpan('nothing');
    expect(span.isRecording()).toBe(false);
    expect(trace.isSpanContextValid(span.spanContext())).toBe(false);
    expect(propagation.fields()).toEqual([]);
    expect(captureTraceContext(trace.setSpan(context.active(), span))).toBeUndefined();
    await expect(stop()).resolves.toBeUndefined();
  });
});

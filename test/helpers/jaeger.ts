/** Reads traces back from Jaeger's HTTP query API (the one its UI uses). */

export interface TraceSpan {
  traceId: string;
  spanId: string;
  /** The CHILD_OF reference: the span's parent, if any. */
  parentSpanId?: string;
  name: string;
  service: string;
  tags: Record<string, string>;
}

interface JaegerTrace {
  traceID: string;
  spans: Array<{
    traceID: string;
    spanID: string;
    operationName: string;
    references?: Array<{ refType: string; traceID: string; spanID: string }>;
    processID: string;
    tags?: Array<{ key: string; value: unknown }>;
  }>;
  processes: Record<string, { serviceName: string }>;
}

function spansOf(trace: JaegerTrace): TraceSpan[] {
  return trace.spans.map((s) => {
    const parent = s.references?.find((r) => r.refType === 'CHILD_OF' && r.traceID === s.traceID);
    return {
      traceId: s.traceID,
      spanId: s.spanID,
      ...(parent ? { parentSpanId: parent.spanID } : {}),
      name: s.operationName,
      service: trace.processes[s.processID]?.serviceName ?? '',
      tags: Object.fromEntries((s.tags ?? []).map((t) => [t.key, String(t.value)])),
    };
  });
}

async function get<T>(url: string): Promise<T> {
  const res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  if (res.status !== 200) throw new Error(`${url}: HTTP ${res.status} ${await res.text()}`);
  return ((await res.json()) as { data: T }).data;
}

/** Every span of the traces of `service` in the last hour (optionally of one operation). */
export async function findTraces(baseUrl: string, service: string, operation?: string): Promise<TraceSpan[][]> {
  const query = new URLSearchParams({ service, lookback: '1h', limit: '100', ...(operation ? { operation } : {}) });
  const traces = await get<JaegerTrace[]>(`${baseUrl}/api/traces?${query}`);
  return traces.map(spansOf);
}

/** Every span of one trace, as Jaeger assembled it. */
export async function getTrace(baseUrl: string, traceId: string): Promise<TraceSpan[]> {
  const [trace] = await get<JaegerTrace[]>(`${baseUrl}/api/traces/${traceId}`);
  return trace ? spansOf(trace) : [];
}

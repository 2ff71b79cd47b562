/**
 * One name per metric: the OpenTelemetry name, unit and attribute keys are declared once
 * (src/telemetry/metrics.ts), and the Prometheus name on /metrics is derived from them by the
 * translation an OpenTelemetry Collector's Prometheus exporter applies to the same metric arriving
 * over OTLP (the OpenTelemetry "OTLP to Prometheus" compatibility rules, default strategy:
 * underscore escaping with unit and type suffixes). So a dashboard or alert rule reads the same
 * series whether it was scraped from a process or received through a collector
 * (docs/decisions/023-otlp-metrics.md).
 */

export type OtelKind = 'counter' | 'updowncounter' | 'gauge' | 'histogram';

export interface MetricSpec {
  /** OpenTelemetry name: dots between namespaces, semantic-convention names where one exists. */
  name: string;
  /** UCUM unit ('s', 'By', '1') or a {annotation} of what is counted. */
  unit: string;
  kind: OtelKind;
  description: string;
  /** OpenTelemetry attribute keys; the Prometheus labels are these with dots as underscores. */
  attributes?: readonly string[];
  /** Explicit bucket boundaries (histograms), in the metric's unit. */
  buckets?: readonly number[];
}

/** UCUM units this project emits or reads, as the Prometheus suffix they become. */
const UNIT_WORDS: Record<string, string> = {
  s: 'seconds',
  ms: 'milliseconds',
  us: 'microseconds',
  ns: 'nanoseconds',
  min: 'minutes',
  h: 'hours',
  By: 'bytes',
  KiBy: 'kibibytes',
  MiBy: 'mebibytes',
  '%': 'percent',
};
const PER_UNIT_WORDS: Record<string, string> = { s: 'second', m: 'minute', h: 'hour' };

/** Name tokens: the translation splits on every character outside [A-Za-z0-9:]. */
const tokensOf = (text: string): string[] => text.split(/[^A-Za-z0-9:]+/).filter((t) => t !== '');

/** The suffix word of a unit part; annotations ({event}) and the dimensionless 1 have none. */
function unitWord(part: string, words: Record<string, string>): string {
  if (part === '' || part === '1' || /[{}]/.test(part)) return '';
  return tokensOf(words[part] ?? part).join('_');
}

/** The Prometheus metric name the collector gives this metric. */
export function prometheusMetricName(spec: Pick<MetricSpec, 'name' | 'unit' | 'kind'>): string {
  const tokens = tokensOf(spec.name);
  const [main = '', per = ''] = spec.unit.split('/');
  const mainWord = unitWord(main, UNIT_WORDS);
  const perWord = unitWord(per, PER_UNIT_WORDS);
  if (mainWord !== '' && !tokens.includes(mainWord)) tokens.push(mainWord);
  if (perWord !== '' && !tokens.includes(`per_${perWord}`)) tokens.push('per', perWord);
  // Only a monotonic sum (a counter) gets _total; an up-down counter becomes a gauge.
  const out = spec.kind === 'counter' ? [...tokens.filter((t) => t !== 'total'), 'total'] : tokens;
  if (spec.unit === '1' && spec.kind === 'gauge' && out[out.length - 1] !== 'ratio') out.push('ratio');
  const name = out.join('_');
  return /^[0-9]/.test(name) ? `_${name}` : name;
}

/** The Prometheus label an attribute key becomes (db.operation.name → db_operation_name). */
export function prometheusLabelName(key: string): string {
  const label = key.replace(/[^A-Za-z0-9_]/g, '_');
  return /^[0-9]/.test(label) ? `key_${label}` : label;
}

const UNIT_OF_SUFFIX: ReadonlyArray<[string, string]> = [
  ['_seconds', 's'],
  ['_bytes', 'By'],
];

/**
 * The OpenTelemetry name and unit of a Prometheus-named metric declared without a spec (prom-client's
 * process and Node.js metrics): `_total` is dropped from counters and a unit suffix gives the unit,
 * so that the collector's translation gives the same Prometheus name back.
 */
export function specOfPrometheusName(name: string, kind: OtelKind, description: string): MetricSpec {
  const base = kind === 'counter' ? name.replace(/_total$/, '') : name;
  const unit = UNIT_OF_SUFFIX.find(([suffix]) => base.endsWith(suffix))?.[1] ?? '';
  return { name: base, unit, kind, description };
}

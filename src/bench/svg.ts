/** Minimal SVG charts written from the benchmark data (no dependency, no external service). */

export interface Series {
  name: string;
  points: ReadonlyArray<readonly [number, number]>;
}

const WIDTH = 760;
const HEIGHT = 360;
const MARGIN = { left: 70, right: 170, top: 40, bottom: 50 };
const COLOURS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b'];

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** 1, 2, 5 × 10^k step giving about `count` ticks up to `max`. */
function niceTicks(max: number, count = 5): number[] {
  if (!(max > 0)) return [0, 1];
  const raw = max / count;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * magnitude).find((s) => s >= raw) ?? raw;
  const ticks: number[] = [];
  for (let v = 0; v <= max + step / 2; v += step) ticks.push(v);
  return ticks;
}

function formatTick(v: number): string {
  if (v >= 1e6) return `${+(v / 1e6).toFixed(1)}M`;
  if (v >= 1e3) return `${+(v / 1e3).toFixed(1)}k`;
  return `${+v.toFixed(2)}`;
}

function frame(title: string, xLabel: string, yLabel: string, yTicks: number[], yMax: number, body: string[], legend: string[]): string {
  const plotH = HEIGHT - MARGIN.top - MARGIN.bottom;
  const plotW = WIDTH - MARGIN.left - MARGIN.right;
  const y = (v: number) => MARGIN.top + plotH - (v / yMax) * plotH;
  const grid = yTicks.map(
    (t) =>
      `<line x1="${MARGIN.left}" x2="${MARGIN.left + plotW}" y1="${y(t).toFixed(1)}" y2="${y(t).toFixed(1)}" stroke="#ddd"/>` +
      `<text x="${MARGIN.left - 6}" y="${(y(t) + 4).toFixed(1)}" text-anchor="end">${formatTick(t)}</text>`,
  );
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" font-family="sans-serif" font-size="11">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${WIDTH / 2}" y="22" text-anchor="middle" font-size="14">${escapeXml(title)}</text>`,
    ...grid,
    `<line x1="${MARGIN.left}" x2="${MARGIN.left}" y1="${MARGIN.top}" y2="${MARGIN.top + plotH}" stroke="#333"/>`,
    `<line x1="${MARGIN.left}" x2="${MARGIN.left + plotW}" y1="${MARGIN.top + plotH}" y2="${MARGIN.top + plotH}" stroke="#333"/>`,
    `<text x="${MARGIN.left + plotW / 2}" y="${HEIGHT - 10}" text-anchor="middle">${escapeXml(xLabel)}</text>`,
    `<text transform="translate(16 ${MARGIN.top + plotH / 2}) rotate(-90)" text-anchor="middle">${escapeXml(yLabel)}</text>`,
    ...body,
    ...legend,
    '</svg>',
    '',
  ].join('\n');
}

function legendEntries(names: ReadonlyArray<string>): string[] {
  const x = WIDTH - MARGIN.right + 12;
  return names.map(
    (name, i) =>
      `<rect x="${x}" y="${MARGIN.top + i * 18}" width="12" height="12" fill="${COLOURS[i % COLOURS.length]}"/>` +
      `<text x="${x + 18}" y="${MARGIN.top + i * 18 + 10}">${escapeXml(name)}</text>`,
  );
}

export function lineChart(title: string, xLabel: string, yLabel: string, series: ReadonlyArray<Series>): string {
  const all = series.flatMap((s) => s.points);
  const xMax = Math.max(1e-9, ...all.map(([x]) => x));
  const yTicks = niceTicks(Math.max(0, ...all.map(([, v]) => v)));
  const yMax = yTicks[yTicks.length - 1] as number;
  const plotW = WIDTH - MARGIN.left - MARGIN.right;
  const plotH = HEIGHT - MARGIN.top - MARGIN.bottom;
  const xTicks = niceTicks(xMax, 6);
  const xScaleMax = xTicks[xTicks.length - 1] as number;
  const px = (x: number) => MARGIN.left + (x / xScaleMax) * plotW;
  const py = (v: number) => MARGIN.top + plotH - (v / yMax) * plotH;
  const body = [
    ...xTicks.map((t) => `<text x="${px(t).toFixed(1)}" y="${MARGIN.top + plotH + 16}" text-anchor="middle">${formatTick(t)}</text>`),
    ...series.map((s, i) => {
      const d = s.points.map(([x, v], j) => `${j === 0 ? 'M' : 'L'}${px(x).toFixed(1)},${py(v).toFixed(1)}`).join(' ');
      return `<path d="${d}" fill="none" stroke="${COLOURS[i % COLOURS.length]}" stroke-width="2"/>`;
    }),
  ];
  return frame(title, xLabel, yLabel, yTicks, yMax, body, legendEntries(series.map((s) => s.name)));
}

/** Grouped bars: one group per category, one bar per series (e.g. p50/p99 per query). */
export function barChart(title: string, yLabel: string, categories: ReadonlyArray<string>, series: ReadonlyArray<{ name: string; values: ReadonlyArray<number> }>, logScale = false): string {
  const transform = (v: number) => (logScale ? Math.log10(1 + Math.max(0, v)) : Math.max(0, v));
  const yTicks = logScale ? [] : niceTicks(Math.max(0, ...series.flatMap((s) => s.values)));
  const yMax = logScale ? Math.max(1e-9, ...series.flatMap((s) => s.values.map(transform))) : (yTicks[yTicks.length - 1] as number);
  const plotW = WIDTH - MARGIN.left - MARGIN.right;
  const plotH = HEIGHT - MARGIN.top - MARGIN.bottom;
  const groupW = plotW / Math.max(1, categories.length);
  const barW = (groupW * 0.8) / Math.max(1, series.length);
  const body: string[] = [];
  categories.forEach((category, c) => {
    body.push(`<text x="${(MARGIN.left + groupW * (c + 0.5)).toFixed(1)}" y="${MARGIN.top + plotH + 16}" text-anchor="middle">${escapeXml(category)}</text>`);
    series.forEach((s, i) => {
      const value = s.values[c] ?? 0;
      const h = (transform(value) / yMax) * plotH;
      const x = MARGIN.left + groupW * c + groupW * 0.1 + barW * i;
      body.push(
        `<rect x="${x.toFixed(1)}" y="${(MARGIN.top + plotH - h).toFixed(1)}" width="${barW.toFixed(1)}" height="${h.toFixed(1)}" fill="${COLOURS[i % COLOURS.length]}"/>` +
          `<text x="${(x + barW / 2).toFixed(1)}" y="${(MARGIN.top + plotH - h - 3).toFixed(1)}" text-anchor="middle" font-size="9">${formatTick(value)}</text>`,
      );
    });
  });
  return frame(title, logScale ? '(bar height: log scale)' : '', yLabel, yTicks, yMax, body, legendEntries(series.map((s) => s.name)));
}

/** Charts of one width stacked into one SVG (e.g. replicas above lag on a shared time axis). */
export function stackCharts(charts: ReadonlyArray<string>): string {
  const inner = charts.map((svg, i) => svg.replace(/^<svg /, `<svg y="${i * HEIGHT}" `));
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT * charts.length}" viewBox="0 0 ${WIDTH} ${HEIGHT * charts.length}">${inner.join('')}</svg>\n`;
}

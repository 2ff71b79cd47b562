/**
 * The live page: one HTML document with its script inline, charts by uPlot (served by the api
 * from node_modules under /assets/, no CDN). Kept in a .ts module so it ships inside dist/ with
 * the image. Every number has a stable data-testid (test/e2e/live-page.test.ts reads them).
 * The script avoids backslashes and template literals: this whole file is one template string.
 */
export const LIVE_PAGE_HTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Ledgerflow live</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="/assets/uPlot.min.css">
<style>
 :root{--bg:#0f1419;--card:#1a212b;--line:#273140;--text:#e6e6e6;--dim:#8d98a7;--ok:#4cc38a;--bad:#f2686a;--warn:#f0b35b;--accent:#5aa9f7}
 *{box-sizing:border-box}
 body{font-family:system-ui,sans-serif;margin:0;padding:20px 28px;background:var(--bg);color:var(--text)}
 header{display:flex;align-items:baseline;gap:16px;margin-bottom:16px}
 h1{font-weight:600;font-size:22px;margin:0} .dim{color:var(--dim);font-size:13px}
 #status{font-size:13px;padding:2px 8px;border-radius:10px;background:var(--card)} #status.live{color:var(--ok)} #status.down{color:var(--bad)}
 .cards{display:grid;grid-template-columns:repeat(6,1fr);gap:12px}
 .card{background:var(--card);border-radius:8px;padding:10px 14px;min-width:0}
 .card .k{color:var(--dim);font-size:12px;text-transform:uppercase;letter-spacing:.04em}
 .card .v{font-size:28px;font-variant-numeric:tabular-nums;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
 .card .s{color:var(--dim);font-size:12px;font-variant-numeric:tabular-nums;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
 .charts{display:grid;grid-template-columns:1fr 1fr;gap:12px;margin-top:12px}
 .chart{background:var(--card);border-radius:8px;padding:8px 10px 0;min-width:0}
 .chart h2{font-size:13px;font-weight:600;color:var(--dim);margin:0 0 4px}
 .u-legend{font-size:12px;color:var(--dim)}
 table{width:100%;border-collapse:collapse;margin-top:12px;background:var(--card);border-radius:8px;font-size:13px}
 th,td{padding:5px 10px;text-align:left;border-bottom:1px solid var(--line);white-space:nowrap;font-variant-numeric:tabular-nums}
 th{color:var(--dim);font-weight:600} td.num,th.num{text-align:right}
 td.id{font-family:ui-monospace,monospace;font-size:12px;color:var(--dim)}
 .applied{color:var(--ok)} .rejected{color:var(--bad)}
 #errors{color:var(--warn);font-size:12px;margin-top:8px;min-height:1em}
 footer{margin-top:6px}
 #signin{max-width:520px;margin:60px auto;background:var(--card);border-radius:8px;padding:20px 24px}
 #signin input{width:100%;padding:8px;margin:10px 0;background:var(--bg);color:var(--text);border:1px solid var(--line);border-radius:4px;font-family:ui-monospace,monospace}
 #signin button,#signout{background:var(--accent);color:#0f1419;border:0;border-radius:4px;padding:6px 14px;font-weight:600;cursor:pointer}
 #signout{background:var(--card);color:var(--dim);margin-left:auto}
 #signin-error{color:var(--bad);font-size:13px;min-height:1em}
 [hidden]{display:none !important}
</style></head>
<body>
<form id="signin" data-testid="signin-form" hidden>
 <h1>Ledgerflow — sign in</h1>
 <p class="dim">Paste an API credential with the <code>read</code> scope (<code>lf_…</code>; the demo prints one). It is sent once and
  exchanged for a session cookie; the page never stores it.</p>
 <input id="credential" data-testid="signin-credential" type="password" autocomplete="off" placeholder="lf_…" required>
 <button type="submit" data-testid="signin-submit">Sign in</button> <span id="signin-error" data-testid="signin-error"></span>
</form>
<main id="live" hidden>
<header><h1>Ledgerflow — live</h1><span id="status" data-testid="connection-status">connecting…</span>
 <span class="dim">updated <span id="updated" data-testid="updated-at">–</span></span>
 <span class="dim">as <span data-testid="signed-in-as">–</span></span><button id="signout" data-testid="signout">Sign out</button></header>
<section class="cards">
 <div class="card"><div class="k">applied</div><div class="v" data-testid="stat-applied">–</div><div class="s">accounts <span data-testid="stat-accounts">–</span></div></div>
 <div class="card"><div class="k">rejected</div><div class="v" data-testid="stat-rejected">–</div><div class="s" data-testid="stat-rejected-reasons">&nbsp;</div></div>
 <div class="card"><div class="k">stored tx/s (5 s)</div><div class="v" data-testid="stat-rate">–</div><div class="s">last minute <span data-testid="stat-last-minute">–</span></div></div>
 <div class="card"><div class="k">occurred→stored p50</div><div class="v"><span data-testid="stat-latency-p50">–</span> <span class="dim">ms</span></div>
  <div class="s">p99 <span data-testid="stat-latency-p99">–</span> · max <span data-testid="stat-latency-max">–</span> ms</div></div>
 <div class="card"><div class="k">consumer lag</div><div class="v" data-testid="stat-lag">–</div><div class="s" data-testid="stat-lag-partitions">&nbsp;</div></div>
 <div class="card"><div class="k">dead-letter queue</div><div class="v" data-testid="stat-dlq">–</div><div class="s">messages in the DLQ topic</div></div>
</section>
<section class="charts">
 <div class="chart"><h2>Stored transactions per second (5 s average) — last 2 minutes</h2><div id="chart-throughput" data-testid="chart-throughput"></div></div>
 <div class="chart"><h2>Latency occurred→stored (ms), newest <span id="sample">1000</span> stored transactions</h2><div id="chart-latency" data-testid="chart-latency"></div></div>
</section>
<table data-testid="recent-table"><thead><tr><th>occurred at (UTC)</th><th>id</th><th>account</th><th>type</th><th>counterparty</th>
 <th class="num">amount</th><th>currency</th><th>status</th><th class="num">occurred→stored</th></tr></thead>
 <tbody id="recent" data-testid="recent-rows"></tbody></table>
<div id="errors" data-testid="feed-errors"></div>
<footer class="dim">Pushed by server-sent events from <code>/events</code> twice a second (lag and DLQ refreshed once a second). Totals from the per-minute rollups;
 tx/s is the change of the stored totals over the last 5 s; latency is from the event's occurredAt to the row's ingested_at.</footer>
</main>
<script src="/assets/uPlot.iife.min.js"></script>
<script>
'use strict';
const WINDOW_SEC = 120;
const CHART_HEIGHT = 250;
const MINOR_DIGITS = { JPY: 0, KRW: 0, ISK: 0, CLP: 0, VND: 0, BHD: 3, KWD: 3, OMR: 3, JOD: 3, TND: 3, IQD: 3, LYD: 3 };
const $ = (id) => document.querySelector('[data-testid="' + id + '"]');
const count = (s) => BigInt(s).toLocaleString('en-US');
const ms = (x) => Math.round(x).toLocaleString('en-US');

// Money stays in BigInt from the wire to the screen: never through a float.
function formatMinor(minor, currency) {
  const digits = MINOR_DIGITS[currency] ?? 2;
  let m = BigInt(minor);
  const negative = m < 0n;
  if (negative) m = -m;
  const scale = 10n ** BigInt(digits);
  const fraction = digits > 0 ? '.' + (m % scale).toString().padStart(digits, '0') : '';
  return (negative ? '-' : '') + (m / scale).toLocaleString('en-US') + fraction;
}

function show(id, text, error) {
  const el = $(id);
  el.textContent = text;
  el.title = error || '';
}

const axis = { stroke: '#8d98a7', grid: { stroke: '#273140', width: 1 }, ticks: { stroke: '#273140', width: 1 } };
function chart(id, series) {
  const el = document.getElementById(id);
  const opts = {
    width: el.clientWidth, height: CHART_HEIGHT,
    scales: { x: { time: true } },
    axes: [axis, Object.assign({ size: 56 }, axis)],
    legend: { live: false },
    series: [{}].concat(series.map((s) => Object.assign({ width: 2, points: { show: false } }, s))),
  };
  return new uPlot(opts, [[]].concat(series.map(() => [])), el);
}
const throughputChart = chart('chart-throughput', [{ label: 'stored tx/s', stroke: '#5aa9f7', fill: 'rgba(90,169,247,0.12)' }]);
const latencyChart = chart('chart-latency', [
  { label: 'p50 ms', stroke: '#4cc38a' },
  { label: 'p99 ms', stroke: '#f0b35b' },
]);
window.addEventListener('resize', () => {
  for (const [c, id] of [[throughputChart, 'chart-throughput'], [latencyChart, 'chart-latency']]) {
    c.setSize({ width: document.getElementById(id).clientWidth, height: CHART_HEIGHT });
  }
});

let points = [];
function redraw() {
  const newest = points.length ? points[points.length - 1].atMs : Date.now();
  points = points.filter((p) => p.atMs >= newest - WINDOW_SEC * 1000);
  const xs = points.map((p) => p.atMs / 1000);
  throughputChart.setData([xs, points.map((p) => p.storedPerSec)]);
  latencyChart.setData([xs, points.map((p) => p.p50Ms), points.map((p) => p.p99Ms)]);
}

function cell(row, text, cls, title) {
  const td = document.createElement('td');
  td.textContent = text;
  if (cls) td.className = cls;
  if (title) td.title = title;
  row.appendChild(td);
}
function renderRecent(rows) {
  const body = $('recent-rows');
  body.replaceChildren();
  for (const t of rows) {
    const tr = document.createElement('tr');
    cell(tr, t.occurredAt.slice(11, 23));
    cell(tr, t.id, 'id');
    cell(tr, t.account);
    cell(tr, t.type);
    cell(tr, t.counterparty || '');
    cell(tr, formatMinor(t.amountMinor, t.currency), 'num');
    cell(tr, t.currency);
    cell(tr, t.status + (t.reason ? ' · ' + t.reason : ''), t.status);
    cell(tr, (Date.parse(t.ingestedAt) - Date.parse(t.occurredAt)) + ' ms', 'num');
    body.appendChild(tr);
  }
}

function render(s) {
  const e = s.errors || {};
  show('updated-at', s.at.slice(11, 19));
  if (s.transactions) {
    show('stat-applied', count(s.transactions.applied));
    show('stat-rejected', count(s.transactions.rejected));
    show('stat-accounts', count(s.accounts));
    show('stat-last-minute', count(s.lastMinute.count));
    show('stat-rejected-reasons', s.rejectedByReason.slice(0, 3).map((r) => r.reason + ' ' + r.count).join(' · ') || ' ');
  } else {
    for (const id of ['stat-applied', 'stat-rejected', 'stat-accounts', 'stat-last-minute']) show(id, '–', e.summary);
  }
  const rate = s.throughput.storedPerSec;
  show('stat-rate', rate === null ? '–' : Math.round(rate).toLocaleString('en-US'), e.summary);
  const l = s.latency;
  show('stat-latency-p50', l ? ms(l.p50Ms) : '–', e.latency);
  show('stat-latency-p99', l ? ms(l.p99Ms) : '–', e.latency);
  show('stat-latency-max', l ? ms(l.maxMs) : '–', e.latency);
  if (l) document.getElementById('sample').textContent = String(l.sampleRows);
  show('stat-lag', s.lag ? count(s.lag.total) : '–', e.lag);
  show('stat-lag-partitions', s.lag ? s.lag.partitions.map((p) => 'p' + p.partition + ' ' + p.lag).join(' · ') : ' ', e.lag);
  show('stat-dlq', s.dlq ? count(s.dlq.count) : '–', e.dlq);
  if (s.recent) renderRecent(s.recent);
  $('feed-errors').textContent = Object.keys(e).map((k) => k + ': ' + e[k]).join(' · ');
  points.push({ atMs: Date.parse(s.at), storedPerSec: rate, p50Ms: l ? l.p50Ms : null, p99Ms: l ? l.p99Ms : null });
  redraw();
}

// Signed in: the session cookie (HttpOnly) goes with every request, EventSource's too.
const status = document.getElementById('status');
const form = document.getElementById('signin');
const live = document.getElementById('live');
let events = null;
function showSignIn(message) {
  if (events) events.close();
  events = null;
  live.hidden = true;
  form.hidden = false;
  $('signin-error').textContent = message || '';
}
function connect(who) {
  form.hidden = true;
  live.hidden = false;
  $('signed-in-as').textContent = who.credential;
  for (const c of [[throughputChart, 'chart-throughput'], [latencyChart, 'chart-latency']]) {
    c[0].setSize({ width: document.getElementById(c[1]).clientWidth, height: CHART_HEIGHT });
  }
  events = new EventSource('/events');
  events.onopen = () => { status.textContent = 'live'; status.className = 'live'; };
  events.onerror = () => {
    status.textContent = 'reconnecting…';
    status.className = 'down';
    // A feed refused for its session (expired, credential revoked) will not come back by itself.
    fetch('/session').then((r) => { if (r.status === 401) showSignIn('The session has ended; sign in again.'); }, () => undefined);
  };
  events.addEventListener('summary', (m) => render(JSON.parse(m.data)));
  events.addEventListener('history', (m) => { points = JSON.parse(m.data).points; redraw(); });
}
async function whoAmI() {
  const r = await fetch('/session');
  return r.ok ? r.json() : null;
}
form.addEventListener('submit', async (e) => {
  e.preventDefault();
  const input = document.getElementById('credential');
  const r = await fetch('/session', { method: 'POST', headers: { authorization: 'Bearer ' + input.value.trim() } });
  input.value = '';
  if (!r.ok) {
    const body = await r.json().catch(() => ({}));
    $('signin-error').textContent = (body.error && body.error.message) || ('sign-in failed: HTTP ' + r.status);
    return;
  }
  connect(await r.json());
});
$('signout').addEventListener('click', async () => {
  await fetch('/session', { method: 'DELETE' });
  showSignIn('Signed out.');
});
whoAmI().then((who) => (who ? connect(who) : showSignIn()), () => showSignIn('The api did not answer.'));
</script></body></html>`;

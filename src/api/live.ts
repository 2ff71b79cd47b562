import type { FastifyInstance } from 'fastify';
import type { Pool } from '../store/pool';
import { statsSummary } from '../store/queries';
import type { Logger } from '../telemetry/log';

const PUSH_EVERY_MS = 1_000;

/** Built-in live page: totals and throughput pushed by server-sent events every second. */
export function registerLive(app: FastifyInstance, pool: Pool, log: Logger): void {
  app.get('/', async (_req, reply) => reply.type('text/html; charset=utf-8').send(LIVE_PAGE));

  app.get('/events', (req, reply) => {
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
    let closed = false;
    const push = async () => {
      try {
        const summary = await statsSummary(pool);
        if (!closed) res.write(`event: summary\ndata: ${JSON.stringify({ at: new Date().toISOString(), ...summary })}\n\n`);
      } catch (err) {
        log.warn({ err }, 'live summary failed');
      }
    };
    const timer = setInterval(push, PUSH_EVERY_MS);
    void push();
    req.raw.on('close', () => {
      closed = true;
      clearInterval(timer);
    });
  });
}

const LIVE_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Ledgerflow live</title>
<style>
 body{font-family:system-ui,sans-serif;margin:2rem;background:#0f1419;color:#e6e6e6}
 h1{font-weight:600} .grid{display:grid;grid-template-columns:repeat(4,1fr);gap:1rem}
 .card{background:#1b222b;border-radius:8px;padding:1rem} .v{font-size:2rem;font-variant-numeric:tabular-nums}
 table{border-collapse:collapse;margin-top:1rem} td,th{padding:.3rem .8rem;text-align:right}
</style></head>
<body><h1>Ledgerflow — live</h1>
<div class="grid">
 <div class="card"><div>applied</div><div class="v" id="applied">–</div></div>
 <div class="card"><div>rejected</div><div class="v" id="rejected">–</div></div>
 <div class="card"><div>tx/s (stored)</div><div class="v" id="rate">–</div></div>
 <div class="card"><div>accounts</div><div class="v" id="accounts">–</div></div>
</div>
<table><thead><tr><th>type</th><th>currency</th><th>count</th><th>amount (minor units)</th></tr></thead><tbody id="types"></tbody></table>
<p id="at"></p>
<script>
 let prev = null;
 const es = new EventSource('/events');
 es.addEventListener('summary', (m) => {
   const s = JSON.parse(m.data);
   const total = BigInt(s.transactions.applied) + BigInt(s.transactions.rejected);
   document.getElementById('applied').textContent = s.transactions.applied;
   document.getElementById('rejected').textContent = s.transactions.rejected;
   document.getElementById('accounts').textContent = s.accounts;
   if (prev) {
     const dt = (Date.parse(s.at) - Date.parse(prev.at)) / 1000;
     document.getElementById('rate').textContent = dt > 0 ? Math.round(Number(total - prev.total) / dt) : '–';
   }
   prev = { at: s.at, total };
   document.getElementById('types').innerHTML = s.byType.map((r) =>
     '<tr><td>' + r.type + '</td><td>' + r.currency + '</td><td>' + r.count + '</td><td>' + r.amountMinor + '</td></tr>').join('');
   document.getElementById('at').textContent = 'updated ' + s.at;
 });
</script></body></html>`;

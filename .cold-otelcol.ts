import { loadConfig } from './src/config';
import { stackContext } from './src/stack/lifecycle';
import { otelcolService } from './src/stack/otelcol';
(async () => {
  const config = loadConfig({ 'stack.cacheDir': '/tmp/otelscratch/cold/cache', 'stack.dir': '/tmp/otelscratch/cold/stack' });
  const ctx = stackContext(config, (l) => console.log(l));
  require('node:fs').mkdirSync(ctx.layout.logs, { recursive: true });
  const t = Date.now(); const c0 = process.cpuUsage();
  await otelcolService(ctx).install(ctx);
  console.log(JSON.stringify({ wallS: (Date.now() - t) / 1000 }));
})();

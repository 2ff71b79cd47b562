import path from 'node:path';
import { createLogger } from '../telemetry/log';
import { WORKFLOW_TRACING_INTERCEPTORS } from '../telemetry/temporal-tracing';
import { PREBUILT_BUNDLE_DIR, prebuildWorkflowBundles } from './bundle';

/**
 * `node dist/src/worker/prebundle.js`, the last step of `npm run build`: the workflow bundles a
 * built worker can ask for, one with tracing off and one with it on, into dist/workflow-bundles/.
 * The image is built this way, so its workers load a bundle instead of running webpack at start.
 */
async function main(): Promise<void> {
  const log = createLogger('info', 'prebundle');
  const files = await prebuildWorkflowBundles(PREBUILT_BUNDLE_DIR, [[], [WORKFLOW_TRACING_INTERCEPTORS]], log);
  log.info({ files: files.map((f) => path.relative(process.cwd(), f)) }, 'workflow bundles prebuilt');
}

main().catch((err: Error) => {
  process.stderr.write(`prebundle: ${err.stack ?? err.message}\n`);
  process.exit(1);
});

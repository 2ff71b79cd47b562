import fs from 'node:fs';

/**
 * The Kubernetes tests build and run a whole node (the first run builds Kubernetes from source):
 * they run with `npm run test:k8s`, which sets LF_K8S_TESTS=1, and are skipped by `npm test`.
 */
export const K8S_TESTS_ENABLED = process.env.LF_K8S_TESTS === '1';
export const K8S_TESTS_SKIP: string | false = K8S_TESTS_ENABLED ? false : 'runs with npm run test:k8s (LF_K8S_TESTS=1)';
/**
 * The autoscaling proof builds KEDA (the first time) and runs a load step of about half an hour:
 * only `npm run test:k8s` runs it (LF_K8S_AUTOSCALE=1, which makes test/k8s/run.sh build KEDA first);
 * `npm test`, which CI runs within its hour, does not.
 */
export const K8S_AUTOSCALE_SKIP: string | false =
  K8S_TESTS_SKIP || (process.env.LF_K8S_AUTOSCALE === '1' ? false : 'the KEDA load step runs with npm run test:k8s (LF_K8S_AUTOSCALE=1), not with npm test');

/** Pids and command lines of the processes whose command line mentions `text`. */
export function processesMentioning(text: string): string[] {
  const out: string[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const cmdline = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').replace(/\0/g, ' ');
      if (cmdline.includes(text)) out.push(`${entry} ${cmdline.trim()}`);
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/**
 * Asks `get` until `done` holds for its answer or `waitMs` has passed, every `everyMs`; resolves the
 * last answer either way (the caller asserts on it, so a failure shows what was last seen).
 */
export async function askUntil<T>(get: () => Promise<T>, done: (value: T) => boolean, waitMs: number, everyMs = 2_000): Promise<T> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    const value = await get();
    if (done(value) || Date.now() > deadline) return value;
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

import fs from 'node:fs';

/**
 * The Kubernetes tests build and run a whole node (the first run builds Kubernetes from source):
 * they run with `npm run test:k8s`, which sets LF_K8S_TESTS=1, and are skipped by `npm test`.
 */
export const K8S_TESTS_ENABLED = process.env.LF_K8S_TESTS === '1';
export const K8S_TESTS_SKIP: string | false = K8S_TESTS_ENABLED ? false : 'runs with npm run test:k8s (LF_K8S_TESTS=1)';

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

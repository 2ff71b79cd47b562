import { createRandom } from '../domain/random';

/**
 * Every fault the chaos run can inject. Service faults hit the local stack (`kafka-kill`: the
 * single broker, or one broker of the 3-broker profile), process faults our processes; `poison`
 * sends events that poison their batch for real (src/chaos/poison.ts).
 */
export const FAULT_KINDS = [
  'consumer-kill',
  'consumer-term',
  'worker-kill',
  'worker-term',
  'temporal-kill',
  'mariadb-kill',
  'kafka-kill',
  'poison',
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export interface PlannedFault {
  /** Milliseconds after the load starts (the earliest moment; a fault also waits for the previous one to recover). */
  atMs: number;
  kind: FaultKind;
  /** Which replica of a process role is hit (index modulo the replicas running then). */
  target: number;
  /** How long the killed thing stays down before it is restarted. */
  downMs: number;
}

export interface PlanOptions {
  seed: number;
  faults: number;
  /** Planned length of the load phase; faults fall between 5 % and 90 % of it. */
  loadMs: number;
  /** Longest outage; each fault draws its own between 0 and this. */
  maxDownMs: number;
}

/**
 * The fault schedule is a pure function of the seed, so a failing run is replayed with the same
 * faults at the same moments. With at least as many faults as kinds, every kind occurs at least once.
 */
export function planFaults(options: PlanOptions): PlannedFault[] {
  const random = createRandom(options.seed);
  const kinds: FaultKind[] = [];
  const cover = shuffle([...FAULT_KINDS], random);
  for (let i = 0; i < options.faults; i++) {
    kinds.push(i < cover.length ? (cover[i] as FaultKind) : (FAULT_KINDS[Math.floor(random() * FAULT_KINDS.length)] as FaultKind));
  }
  const times = kinds.map(() => Math.round(options.loadMs * (0.05 + 0.85 * random()))).sort((a, b) => a - b);
  return shuffle(kinds, random).map((kind, i) => ({
    atMs: times[i] as number,
    kind,
    target: Math.floor(random() * 1_000),
    downMs: Math.round(random() * options.maxDownMs),
  }));
}

function shuffle<T>(items: T[], random: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j] as T, items[i] as T];
  }
  return items;
}

export function countByKind(kinds: FaultKind[]): Record<FaultKind, number> {
  const out = Object.fromEntries(FAULT_KINDS.map((k) => [k, 0])) as Record<FaultKind, number>;
  for (const k of kinds) out[k] += 1;
  return out;
}

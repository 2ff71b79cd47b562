import { detectBatch, type FraudFlag, type NearestFraud } from '../domain/fraud/detect';
import type { PcaModel } from '../domain/fraud/embedding';
import type { FraudThresholds, TransferLeg } from '../domain/fraud/rules';
import type { AccountStats } from '../domain/fraud/stats';
import { createTraffic, type FraudPattern, type TrafficOptions } from '../producer/traffic';

export interface OfflineRun {
  labels: Map<string, FraudPattern>;
  flags: Map<string, FraudFlag>;
  transactions: number;
}

/**
 * Runs a workload of the traffic model through the same pure detection in memory, one batch after another
 * (no Kafka, no database): the training pass of `fraud train`, and a fast way to see thresholds.
 */
export function runOffline(
  workload: TrafficOptions & { count: number },
  thresholds: FraudThresholds,
  options: { model?: PcaModel | null; nearestFraud?: (v: number[]) => NearestFraud | null; onFeatures?: (id: string, f: number[], fraud: boolean) => void; batchSize?: number } = {},
): OfflineRun {
  const next = createTraffic(workload);
  const stats = new Map<string, AccountStats>();
  const labels = new Map<string, FraudPattern>();
  const flags = new Map<string, FraudFlag>();
  const transfers: TransferLeg[] = [];
  const batchSize = options.batchSize ?? 500;
  const windowMs = thresholds.roundTripWindowS * 1000;
  for (let done = 0; done < workload.count; ) {
    const batch = [];
    for (let i = 0; i < batchSize && done < workload.count; i++, done++) {
      const { event, label } = next();
      if (label) labels.set(event.id, label);
      batch.push(event);
    }
    const latestMs = Date.parse((batch[batch.length - 1] as { occurredAt: string }).occurredAt);
    while (transfers.length > 0 && (transfers[0] as TransferLeg).occurredAtMs < latestMs - 2 * windowMs) transfers.shift();
    const outcome = detectBatch(batch, stats, {
      thresholds,
      model: options.model ?? null,
      nearestFraud: options.nearestFraud ?? (() => null),
      storedTransfers: transfers,
      ...(options.onFeatures ? { onFeatures: (id: string, f: number[]) => options.onFeatures?.(id, f, labels.has(id)) } : {}),
    });
    for (const [account, s] of outcome.stats) stats.set(account, s);
    for (const f of outcome.flags) flags.set(f.txId, f);
    for (const e of batch) {
      if (e.type === 'transfer' && e.counterparty) transfers.push({ id: e.id, from: e.account, to: e.counterparty, amountMinor: e.amountMinor, occurredAtMs: Date.parse(e.occurredAt) });
    }
  }
  return { labels, flags, transactions: workload.count };
}

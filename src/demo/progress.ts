import type { Admin } from 'kafkajs';
import type { Config } from '../config';
import { createKafka } from '../kafka/client';
import type { Logger } from '../telemetry/log';

/** Kafka's view of the run: events written, committed by the consumer group, sent to the DLQ. */
export interface OffsetTotals {
  written: number;
  committed: number;
  dlq: number;
}

async function totals(admin: Admin, config: Config): Promise<OffsetTotals> {
  const [topic, dlq, groups] = await Promise.all([
    admin.fetchTopicOffsets(config.kafka.topic),
    admin.fetchTopicOffsets(config.kafka.dlqTopic),
    admin.fetchOffsets({ groupId: config.kafka.groupId, topics: [config.kafka.topic] }),
  ]);
  const sum = (list: ReadonlyArray<{ high?: string; offset?: string }>, field: 'high' | 'offset') => list.reduce((s, o) => s + Math.max(0, Number(o[field] ?? 0)), 0);
  return { written: sum(topic, 'high'), committed: sum(groups[0]?.partitions ?? [], 'offset'), dlq: sum(dlq, 'high') };
}

/**
 * Samples the offsets (one admin connection for the whole run) relative to the run's start, so a
 * topic that already holds earlier runs shows this run's numbers only.
 */
export async function startOffsetSampler(config: Config, log: Logger): Promise<{ sample(): Promise<OffsetTotals & { lag: number }>; close(): Promise<void> }> {
  const admin = createKafka(config, 'demo-progress', log).admin();
  await admin.connect();
  const base = await totals(admin, config);
  return {
    sample: async () => {
      const now = await totals(admin, config);
      return { written: now.written - base.written, committed: now.committed - base.committed, dlq: now.dlq - base.dlq, lag: Math.max(0, now.written - now.committed) };
    },
    close: () => admin.disconnect(),
  };
}

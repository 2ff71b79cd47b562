/**
 * The topic's real partition count against the replica cap the deployment was sized for
 * (kafka.partitions: the chart caps consumer replicas at it). A consumer beyond the partition count
 * gets no partition and idles, so a topic with fewer partitions than the cap is refused readiness;
 * one with more only loses scale-out headroom, which is reported (docs/decisions/028-autoscaling-signals.md).
 */
export interface PartitionCapCheck {
  /** False when consumers up to the cap would sit idle. */
  ok: boolean;
  topicPartitions: number;
  capPartitions: number;
  /** What is wrong and what to do, for the log and /readyz; absent when both agree. */
  message?: string;
}

export function checkPartitionCap(topic: string, topicPartitions: number, capPartitions: number): PartitionCapCheck {
  const facts = { topicPartitions, capPartitions };
  if (topicPartitions < capPartitions) {
    return {
      ok: false,
      ...facts,
      message:
        `topic ${topic} has ${topicPartitions} partitions but kafka.partitions (LF_KAFKA_PARTITIONS) is ${capPartitions}: ` +
        `up to ${capPartitions - topicPartitions} consumer replicas would get no partition and idle; ` +
        `set kafka.partitions to ${topicPartitions} or add partitions to the topic`,
    };
  }
  if (topicPartitions > capPartitions) {
    return {
      ok: true,
      ...facts,
      message:
        `topic ${topic} has ${topicPartitions} partitions but kafka.partitions (LF_KAFKA_PARTITIONS) is ${capPartitions}: ` +
        `consumers are capped at ${capPartitions} replicas, below the ${topicPartitions} the topic could use; raise kafka.partitions to scale further`,
    };
  }
  return { ok: true, ...facts };
}

import type { CompressionTypes, KafkaMessage, Producer } from 'kafkajs';

export interface Rejected {
  message: KafkaMessage;
  field: string;
  reason: string;
}

/**
 * Bytes of DLQ copies per produce request. A request carries one record batch for the DLQ
 * partition, and the broker refuses a batch above the topic's max.message.bytes, so many
 * malformed events of one slice must not travel together. The DLQ topic itself allows 2 MiB
 * (DLQ_TOPIC_MAX_MESSAGE_BYTES), so a single copy of the largest source event plus headers fits.
 */
export const DLQ_REQUEST_MAX_BYTES = 512 * 1024;
const HEADER_ALLOWANCE_BYTES = 1024;

function sizeOf(r: Rejected): number {
  return (r.message.value?.length ?? 0) + (r.message.key?.length ?? 0) + r.reason.length + HEADER_ALLOWANCE_BYTES;
}

/** Groups copies so that each request stays under the byte budget (a lone oversize copy goes alone). */
export function dlqChunks(rejected: ReadonlyArray<Rejected>, maxBytes = DLQ_REQUEST_MAX_BYTES): Rejected[][] {
  const chunks: Rejected[][] = [];
  let current: Rejected[] = [];
  let bytes = 0;
  for (const r of rejected) {
    const size = sizeOf(r);
    if (current.length > 0 && bytes + size > maxBytes) {
      chunks.push(current);
      current = [];
      bytes = 0;
    }
    current.push(r);
    bytes += size;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

/**
 * Sends malformed events to the dead-letter topic with the original bytes and the reason in
 * headers, acks=all, before their offsets may be committed: nothing is dropped silently.
 */
export async function sendToDlq(target: { producer: Producer; compression: CompressionTypes }, dlqTopic: string, topic: string, partition: number, rejected: Rejected[]): Promise<void> {
  const failedAt = new Date().toISOString();
  for (const chunk of dlqChunks(rejected)) {
    await target.producer.send({
      topic: dlqTopic,
      acks: -1,
      compression: target.compression,
      messages: chunk.map(({ message, field, reason }) => ({
        key: message.key,
        value: message.value,
        headers: {
          'lf-error-code': 'LF_INVALID_EVENT',
          'lf-field': field,
          'lf-reason': reason,
          'lf-source-topic': topic,
          'lf-source-partition': String(partition),
          'lf-source-offset': message.offset,
          'lf-failed-at': failedAt,
        },
      })),
    });
  }
}

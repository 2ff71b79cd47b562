import type { KafkaMessage, Producer } from 'kafkajs';

export interface Rejected {
  message: KafkaMessage;
  field: string;
  reason: string;
}

/**
 * Sends malformed events to the dead-letter topic with the original bytes and the reason in
 * headers, acks=all, before their offsets may be committed: nothing is dropped silently.
 */
export async function sendToDlq(producer: Producer, dlqTopic: string, topic: string, partition: number, rejected: Rejected[]): Promise<void> {
  if (rejected.length === 0) return;
  const failedAt = new Date().toISOString();
  await producer.send({
    topic: dlqTopic,
    acks: -1,
    messages: rejected.map(({ message, field, reason }) => ({
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

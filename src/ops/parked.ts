import type { Config } from '../config';
import { LedgerflowError } from '../domain/errors';
import { connectProducerWithTopics, createKafka, sendKeyed } from '../kafka/client';
import { getParked, listParked, markReplayed, parseParkedId, type ParkedEvent } from '../store/parked';
import { createPool, type Pool } from '../store/pool';
import type { Logger } from '../telemetry/log';
import { parseCommandArgs, positiveIntOption } from './args';

export const PARKED_USAGE = `ledgerflow parked list [--all] [--limit N] [--json]
                                      events the store refused and isolated from their batch, oldest first
                                      (unresolved only, unless --all: resolved = the id is stored now)
ledgerflow parked show <partition:offset>
                                      one parked event: its error, batch, and the message as produced
ledgerflow parked replay <partition:offset>
                                      sends the parked message again to the topic (same key and bytes) once
                                      its cause is fixed; applied once however often it is replayed
                                      (its id decides), and again parked if the store still refuses it`;

function line(p: ParkedEvent): string {
  const state = p.resolved ? 'resolved' : p.replayCount > 0 ? `replayed x${p.replayCount}` : 'parked';
  return `${p.id.padEnd(14)} ${p.parkedAt}  ${state.padEnd(12)} ${p.txId}  ${p.account.padEnd(16)} ${p.code}: ${p.reason.slice(0, 120)}`;
}

async function find(pool: Pool, config: Config, id: string | undefined): Promise<ParkedEvent> {
  const source = id === undefined ? null : parseParkedId(id);
  if (!source) throw new LedgerflowError('LF_CONFIG', `parked: give the parked event as <partition>:<offset> (see ledgerflow parked list), got ${JSON.stringify(id ?? '')}`);
  const parked = await getParked(pool, config.kafka.topic, source.partition, source.offset);
  if (!parked) throw new LedgerflowError('LF_NOT_FOUND', `no parked event ${id} on topic ${config.kafka.topic}`, id);
  return parked;
}

/**
 * Sends a parked event's message again, with its account as the key (the topic's keying) and
 * headers naming the source it replays. The pipeline applies it like any event: exactly once by
 * its id, or parks it again (under its new offset) if the store still refuses it.
 */
async function replay(config: Config, parked: ParkedEvent, log: Logger): Promise<number> {
  const kafka = createKafka(config, 'parked-replay', log);
  const target = await connectProducerWithTopics(config, kafka);
  try {
    const [partition] = await sendKeyed(target, config.kafka.topic, [
      {
        key: parked.account,
        value: Buffer.from(parked.payload, 'utf8'),
        headers: { 'lf-replay-of': `${parked.topic}:${parked.id}`, 'lf-parked-code': parked.code },
      },
    ]);
    return partition as number;
  } finally {
    await target.producer.disconnect();
  }
}

export async function parkedCommand(config: Config, args: string[], log: Logger): Promise<number> {
  const { values, positionals } = parseCommandArgs('parked', args, { all: { type: 'boolean' }, limit: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean' } });
  const [sub, id, ...extra] = positionals;
  if (values.help || sub === undefined || sub === 'help') {
    process.stdout.write(`${PARKED_USAGE}\n`);
    return sub === undefined && !values.help ? 2 : 0;
  }
  if (extra.length > 0) throw new LedgerflowError('LF_CONFIG', `parked ${sub}: unexpected ${extra.join(' ')}`);
  const pool = createPool(config, 'app', 1);
  try {
    switch (sub) {
      case 'list': {
        const { items, next } = await listParked(pool, config.kafka.topic, { limit: positiveIntOption('parked', 'limit', values.limit, 50), unresolved: values.all !== true });
        if (values.json) process.stdout.write(`${JSON.stringify({ items, next }, null, 2)}\n`);
        else {
          for (const p of items) process.stdout.write(`${line(p)}\n`);
          process.stdout.write(`${items.length} ${values.all ? 'parked' : 'unresolved parked'} event(s)${next ? ' (more: --limit)' : ''}\n`);
        }
        return 0;
      }
      case 'show': {
        process.stdout.write(`${JSON.stringify(await find(pool, config, id), null, 2)}\n`);
        return 0;
      }
      case 'replay': {
        const parked = await find(pool, config, id);
        if (parked.resolved) process.stderr.write(`parked ${parked.id}: transaction ${parked.txId} is stored already; replaying it again changes nothing\n`);
        const partition = await replay(config, parked, log);
        await markReplayed(pool, config.kafka.topic, parked.partition, parked.offset);
        process.stdout.write(`replayed ${parked.id} (transaction ${parked.txId}) to ${config.kafka.topic} partition ${partition}\n`);
        return 0;
      }
      default:
        throw new LedgerflowError('LF_CONFIG', `parked: unknown subcommand ${JSON.stringify(sub)}; one of list, show, replay (ledgerflow parked --help)`);
    }
  } finally {
    await pool.end();
  }
}

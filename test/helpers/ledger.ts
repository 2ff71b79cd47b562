import { balanceKey } from '../../src/domain/ledger';
import type { Config } from '../../src/config';
import { createKafka } from '../../src/kafka/client';
import type { Pool } from '../../src/store/pool';
import { allBalances } from '../../src/store/queries';
import { highWatermarks, readTopicUpTo } from '../../src/verify/kafkaRead';
import { TopicIds } from '../../src/verify/topic';

/**
 * The balances and rollup totals the ledger must hold, computed from the topic's own events (each
 * id once, its winning variant), with only each id's status taken from the database. A batch
 * applied twice moves balances and rollups twice although `transactions` (keyed by id) still holds
 * one row per id: these expectations see it, a count of rows cannot.
 */
export async function expectedFromTopic(config: Config, pool: Pool): Promise<{ balances: Map<string, bigint>; counts: Map<string, bigint>; amounts: Map<string, bigint> }> {
  const kafka = createKafka(config, 'test-expected');
  const topic = new TopicIds(new Set());
  await readTopicUpTo(kafka, config.kafka.topic, await highWatermarks(kafka, config.kafka.topic), (partition, message) => topic.add(partition, message));
  const [rows] = await pool.query('SELECT id, status FROM transactions');
  const status = new Map((rows as Array<{ id: string; status: string }>).map((r) => [r.id, r.status]));
  const balances = new Map<string, bigint>();
  const counts = new Map<string, bigint>();
  const amounts = new Map<string, bigint>();
  const add = (map: Map<string, bigint>, key: string, delta: bigint) => map.set(key, (map.get(key) ?? 0n) + delta);
  for (const [id, { event: e }] of topic.winners) {
    const s = status.get(id);
    if (s === undefined) continue;
    const amount = BigInt(e.amountMinor);
    add(counts, `${e.type}/${s}`, 1n);
    add(amounts, `${e.type}/${s}`, amount);
    if (s !== 'applied') continue;
    add(balances, balanceKey(e.account, e.currency), e.type === 'credit' ? amount : -amount);
    if (e.type === 'transfer' && e.counterparty) add(balances, balanceKey(e.counterparty, e.currency), amount);
  }
  return { balances, counts, amounts };
}

/** The ledger's balances (row plus pending credits), zero ones left out (a zero row means no money). */
export async function storedBalances(pool: Pool): Promise<Map<string, bigint>> {
  const out = new Map<string, bigint>();
  for (const b of await allBalances(pool)) if (BigInt(b.balance_minor) !== 0n) out.set(balanceKey(b.account, b.currency), BigInt(b.balance_minor));
  return out;
}

/** Day rollup totals by "type/status": counts and amounts. */
export async function rollupTotals(pool: Pool): Promise<{ counts: Map<string, bigint>; amounts: Map<string, bigint> }> {
  const [rows] = await pool.query('SELECT type, status, SUM(tx_count) AS n, SUM(amount_minor) AS s FROM rollup_day GROUP BY type, status');
  const counts = new Map<string, bigint>();
  const amounts = new Map<string, bigint>();
  for (const r of rows as Array<{ type: string; status: string; n: string; s: string }>) {
    if (BigInt(r.n) === 0n) continue;
    counts.set(`${r.type}/${r.status}`, BigInt(r.n));
    amounts.set(`${r.type}/${r.status}`, BigInt(r.s));
  }
  return { counts, amounts };
}

/**
 * Store conformance: what Ledgerflow relies on from its store, run against the store named by the
 * usual LF_DB_* settings (LF_DB_DIALECT mariadb or singlestore) in a database the suite creates,
 * migrates and drops (test/store/scratch.ts). Everything goes through the real batch path
 * (applyBatchWith with the worker's per-dialect writes, src/store/*); no Kafka or Temporal is
 * needed. `npm run test:store`; in `npm test` it runs against the local stack's MariaDB.
 * docs/singlestore.md says what it checks and what has been run where (decision 027).
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { fraudThresholdsOf, loadConfig } from '../../src/config';
import { newTransactionId } from '../../src/domain/ids';
import { balanceKey } from '../../src/domain/ledger';
import { MINOR_UNITS_MAX } from '../../src/domain/money';
import type { SourcedEvent, TransactionType } from '../../src/domain/transaction';
import { applyBatchWith, type ApplyBatchDeps } from '../../src/activities/applyBatch';
import type { FraudDeps } from '../../src/activities/fraud';
import { EMBEDDING_DIM, FEATURE_COUNT, fitPca } from '../../src/domain/fraud/embedding';
import { createRandom } from '../../src/domain/random';
import { serializeStats } from '../../src/domain/fraud/stats';
import { decodeStats } from '../../src/domain/fraud/statsCodec';
import { conflictsOfTransaction } from '../../src/store/conflicts';
import { dialectWrites, loadMigrations } from '../../src/store/dialect';
import type { Failure } from '../../src/store/failures';
import { forgetFraudOf, registerIds } from '../../src/store/identity';
import { migrate } from '../../src/store/migrate';
import { applyRollups, insertTransactions, lockBalances, writeBalances } from '../../src/store/ledger';
import { loadFraudVectors } from '../../src/store/fraud';
import { countParked, listParked, parkEvents } from '../../src/store/parked';
import { createPool, inTransaction, type Connection, type Pool } from '../../src/store/pool';
import { accountBalances, getTransaction } from '../../src/store/queries';
import { auditTrail, decide } from '../../src/store/reviews';
import type { ApplyBatchInput } from '../../src/workflows/types';
import { serverRowLockWaits, watchLockWaits } from './lockWaits';
import { createConformanceDb, type ConformanceDb } from './scratch';

const TOPIC = 'conformance';
let db: ConformanceDb;
let pool: Pool;
let deps: ApplyBatchDeps;
const failures: Failure[] = [];
let nextOffset = 0;

before(async () => {
  db = await createConformanceDb();
  pool = createPool(db.config, 'app', 8);
  deps = {
    pool,
    overdraftLimitMinor: BigInt(db.config.rules.overdraftLimitMinor),
    ...dialectWrites(db.config.db.dialect),
    topic: TOPIC,
    observe: { failure: (f) => failures.push(f) },
  };
});

after(async () => {
  await pool?.end();
  await db?.drop();
});

const event = (partition: number, account: string, type: TransactionType, amount: bigint | number, extra: Partial<SourcedEvent> = {}): SourcedEvent => ({
  id: newTransactionId(),
  account,
  type,
  amountMinor: String(amount),
  currency: 'EUR',
  occurredAt: new Date().toISOString(),
  partition,
  offset: String(nextOffset++),
  ...extra,
});
const batch = (events: SourcedEvent[]): ApplyBatchInput => ({ batchId: `conf-${events[0]?.partition}-${events[0]?.offset}`, events, rejections: {} });
const apply = (events: SourcedEvent[]) => applyBatchWith(deps, batch(events));

async function balanceOf(account: string): Promise<bigint> {
  const rows = await accountBalances(pool, account);
  return rows.reduce((sum, r) => sum + BigInt(r.balanceMinor), 0n);
}

/** Deadlocks and lock-wait timeouts seen by the batch path since `from` (its observer hears every failed try). */
const lockFailuresSince = (from: number) => failures.slice(from).filter((f) => f.errno === 1213 || f.errno === 1205);

test('a replayed batch stores nothing twice and moves no balance twice', async () => {
  const events = [event(0, 'rp-a', 'credit', 100), event(0, 'rp-a', 'debit', 30), event(0, 'rp-a', 'transfer', 20, { counterparty: 'rp-b' })];
  const first = await apply(events);
  assert.equal(first.inserted, 3);
  assert.equal(first.applied, 3);
  const again = await apply(events);
  assert.equal(again.inserted, 0);
  assert.equal(again.duplicates, 3);
  assert.equal(await balanceOf('rp-a'), 50n);
  assert.equal(await balanceOf('rp-b'), 20n);
  const [rows] = await pool.query('SELECT COUNT(*) AS n FROM transactions WHERE id IN (?)', [events.map((e) => e.id)]);
  assert.equal(Number((rows as Array<{ n: number }>)[0]?.n), 3);
});

test('concurrent batches of disjoint partitions, with transfers across them: exact balances, no deadlock or lock-wait timeout', async () => {
  const from = failures.length;
  const partitions = 4;
  const accountsPerPartition = 12;
  const accountOf = (p: number, i: number) => `dj-p${p}-${i}`;
  const expected = new Map<string, bigint>();
  const add = (account: string, d: bigint) => expected.set(account, (expected.get(account) ?? 0n) + d);
  const plans: SourcedEvent[][][] = [];
  for (let p = 0; p < partitions; p++) {
    const batches: SourcedEvent[][] = [];
    batches.push(Array.from({ length: accountsPerPartition }, (_, i) => event(p, accountOf(p, i), 'credit', 10_000)));
    for (let b = 0; b < 5; b++) {
      const events: SourcedEvent[] = [];
      for (let i = 0; i < accountsPerPartition; i++) {
        const to = accountOf((p + 1 + ((i + b) % (partitions - 1))) % partitions, (i * 7 + b) % accountsPerPartition);
        events.push(event(p, accountOf(p, i), 'transfer', 1 + ((i + b) % 9), { counterparty: to }));
      }
      batches.push(events);
    }
    for (const events of batches) {
      for (const e of events) {
        add(e.account, e.type === 'credit' ? BigInt(e.amountMinor) : -BigInt(e.amountMinor));
        if (e.counterparty) add(e.counterparty, BigInt(e.amountMinor));
      }
    }
    plans.push(batches);
  }
  // A partition's batches one after another (as its workflows run), the partitions at once.
  const results = await Promise.all(plans.map(async (batches) => {
    const out = [];
    for (const events of batches) out.push(await apply(events));
    return out;
  }));
  for (const r of results.flat()) assert.equal(r.rejected, 0, `batch ${r.batchId}: every transfer is covered`);
  // One more batch per partition folds the credits still waiting, so the rows alone hold the sums.
  await Promise.all(Array.from({ length: partitions }, (_, p) => apply(Array.from({ length: accountsPerPartition }, (_, i) => event(p, accountOf(p, i), 'credit', 1)))));
  for (let p = 0; p < partitions; p++) for (let i = 0; i < accountsPerPartition; i++) add(accountOf(p, i), 1n);
  for (const [account, balance] of expected) assert.equal(await balanceOf(account), balance, account);
  assert.deepEqual(lockFailuresSince(from), []);
});

test('deadlock freedom: concurrent batches of interleaved accounts wait for no row lock, counted over a few seconds', async (t) => {
  // Kafka keys by account, so batches of different partitions own disjoint accounts; here their
  // account keys interleave (lw-00000 is partition 0's, lw-00001 partition 1's, …), so any read or
  // delete that scans past its own keys meets another batch's rows. Transfers go across
  // partitions, so every batch folds credits others inserted, while others insert more. The only
  // rows batches are meant to share are the rollup rows, taken last in one order (the previous
  // test): each partition's events fall on a day of its own here, so those are not shared either,
  // and every lock wait counted is one on a row the lock order says no other batch holds.
  const partitions = 4;
  const accountsPerPartition = 60;
  const minimumMs = 3_000;
  const minimumBatches = 5;
  const accountOf = (p: number, i: number) => `lw-${String(i * partitions + p).padStart(5, '0')}`;
  const occurredAt = (p: number) => `2001-02-0${p + 1}T12:00:00.000Z`;
  const watch = watchLockWaits(db.config, partitions * 2);
  const observed: Failure[] = [];
  const batchErrors: string[] = [];
  const watched: ApplyBatchDeps = { ...deps, pool: watch.pool, observe: { failure: (f) => observed.push(f) } };
  const expected = new Map<string, bigint>();
  const add = (account: string, d: bigint) => expected.set(account, (expected.get(account) ?? 0n) + d);
  const run = (events: SourcedEvent[]) => {
    for (const e of events) {
      add(e.account, e.type === 'credit' ? BigInt(e.amountMinor) : -BigInt(e.amountMinor));
      if (e.counterparty) add(e.counterparty, BigInt(e.amountMinor));
    }
    return applyBatchWith(watched, batch(events));
  };
  try {
    await Promise.all(Array.from({ length: partitions }, (_, p) => run(Array.from({ length: accountsPerPartition }, (_, i) => event(p, accountOf(p, i), 'credit', 1_000_000, { occurredAt: occurredAt(p) })))));
    const serverBefore = await serverRowLockWaits(pool, db.config);
    const started = Date.now();
    const counts = await Promise.all(
      Array.from({ length: partitions }, async (_, p) => {
        let b = 0;
        // A partition's batches one after another (as its workflows run), the partitions at once.
        for (; b < minimumBatches || Date.now() - started < minimumMs; b++) {
          const events = Array.from({ length: accountsPerPartition }, (_, i) => {
            const amount = 1 + ((i + b) % 7);
            const extra = { occurredAt: occurredAt(p) };
            if (i % 3 === 0) return event(p, accountOf(p, i), 'transfer', amount, { ...extra, counterparty: accountOf((p + 1 + ((i + b) % (partitions - 1))) % partitions, (i * 7 + b) % accountsPerPartition) });
            return event(p, accountOf(p, i), i % 3 === 1 ? 'debit' : 'credit', amount, extra);
          });
          // A batch that keeps meeting locks fails (its waits are failures here): the waits say why.
          const r = await run(events).catch((err: Error) => err);
          if (r instanceof Error) {
            batchErrors.push(r.message);
            break;
          }
          assert.equal(r.rejected, 0, `batch ${r.batchId}: every debit is covered`);
        }
        return b;
      }),
    );
    const elapsedMs = Date.now() - started;
    const serverAfter = await serverRowLockWaits(pool, db.config);
    // One more batch per partition folds the credits still waiting, so the rows alone hold the sums.
    await Promise.all(Array.from({ length: partitions }, (_, p) => run([event(p, accountOf(p, 0), 'credit', 1, { occurredAt: occurredAt(p) }), ...Array.from({ length: accountsPerPartition - 1 }, (_, i) => event(p, accountOf(p, i + 1), 'credit', 1, { occurredAt: occurredAt(p) }))])));
    const waits = watch.seen();
    t.diagnostic(
      `${counts.reduce((a, b) => a + b, 0)} batches (${counts.join('/')} per partition) in ${elapsedMs} ms; lock waits of these sessions: ${waits.length}` +
        (serverBefore === null || serverAfter === null ? '' : `; server-wide Innodb_row_lock_waits delta (every client): ${serverAfter - serverBefore}`),
    );
    assert.deepEqual(waits, [], 'no statement of a batch waited for a row lock');
    assert.deepEqual(batchErrors, []);
    assert.deepEqual(observed.filter((f) => f.errno === 1213 || f.errno === 1205), [], 'no deadlock, no lock-wait timeout');
    for (const [account, balance] of expected) assert.equal(await balanceOf(account), balance, account);
  } finally {
    await watch.end();
  }
});

test('concurrent batches on the same accounts, in different event orders: locks taken in one order, no deadlock, exact sums', async () => {
  const from = failures.length;
  const accounts = Array.from({ length: 10 }, (_, i) => `ov-${i}`);
  const batches = Array.from({ length: 6 }, (_, b) => {
    const order = b % 2 === 0 ? accounts : [...accounts].reverse();
    return order.map((a, i) => event(b, a, 'credit', 1 + ((i + b) % 5)));
  });
  const expected = new Map<string, bigint>();
  for (const e of batches.flat()) expected.set(e.account, (expected.get(e.account) ?? 0n) + BigInt(e.amountMinor));
  const results = await Promise.all(batches.map((events) => apply(events)));
  assert.equal(results.reduce((n, r) => n + r.applied, 0), batches.flat().length);
  for (const [account, balance] of expected) assert.equal(await balanceOf(account), balance, account);
  assert.deepEqual(lockFailuresSince(from), []);
});

test('a balance that would overflow is rejected before any write; a transfer that would overflow its receiver goes back', async () => {
  const max = MINOR_UNITS_MAX;
  const [big, over] = [event(0, 'of-max', 'credit', max), event(0, 'of-max', 'credit', 1)];
  const r = await apply([big, over]);
  assert.equal(r.applied, 1);
  assert.deepEqual(r.rejectedByReason, { balance_overflow: 1 });
  assert.equal(await balanceOf('of-max'), max);
  assert.equal((await getTransaction(pool, big.id))?.amountMinor, max.toString(), 'BIGINT extreme stored exactly');
  assert.equal((await getTransaction(pool, over.id))?.reason, 'balance_overflow');
  // From another partition: the sender is debited now; the receiver's own batch refuses the credit and returns it.
  const transfer = event(1, 'of-sender', 'transfer', 5, { counterparty: 'of-max' });
  await apply([event(1, 'of-sender', 'credit', 10), transfer]);
  const folded = await apply([event(0, 'of-max', 'debit', 1)]);
  assert.equal(folded.returned, 1);
  assert.equal(await balanceOf('of-max'), max - 1n);
  assert.equal(await balanceOf('of-sender'), 10n);
  const stored = await getTransaction(pool, transfer.id);
  assert.equal(stored?.status, 'rejected');
  assert.equal(stored?.reason, 'balance_overflow');
});

test('one id, one payment: the same id on another account is one row and one recorded conflict', async () => {
  const first = event(0, 'id-a', 'credit', 10);
  const reused = { ...event(1, 'id-b', 'credit', 99), id: first.id };
  await apply([first]);
  const r = await apply([reused]);
  assert.equal(r.inserted, 0);
  assert.equal(r.conflicts, 1);
  const [rows] = await pool.query('SELECT account FROM transactions WHERE id = ?', [first.id]);
  assert.deepEqual((rows as Array<{ account: string }>).map((x) => x.account), ['id-a']);
  assert.equal(await balanceOf('id-b'), 0n);
  const conflicts = await conflictsOfTransaction(pool, first.id);
  assert.equal(conflicts.length, 1);
  // Replayed (the same batch delivered again): stored once, and counted once (the batch result
  // feeds ledgerflow_id_conflicts_total), not again as a new conflict.
  const replayed = await apply([reused]);
  assert.equal(replayed.conflicts, 0, 'a conflict recorded before is not counted again');
  assert.equal(replayed.inserted, 0);
  assert.equal((await conflictsOfTransaction(pool, first.id)).length, 1);
  // A second, other variant of the same id is a conflict of its own, counted once.
  const other = { ...event(1, 'id-b', 'credit', 98), id: first.id };
  assert.equal((await apply([other, reused])).conflicts, 1);
  assert.equal((await conflictsOfTransaction(pool, first.id)).length, 2);
});

test('the store itself refuses a second row for a stored id on another account (the unique id rule the DDL carries)', async () => {
  const stored = event(0, 'uk-a', 'credit', 1);
  await apply([stored]);
  const copy = { event: { ...stored, account: 'uk-b' }, status: 'applied' as const, reason: null };
  const refused = await inTransaction(pool, async (conn) => {
    if (deps.idRegistry) await registerIds(conn, [copy]);
    await insertTransactions(conn, 'conf-uk', [copy], deps.rowWrite);
  }).then(() => null, (err: { errno?: number }) => err);
  assert.ok(refused, 'the second row is refused');
  assert.ok(refused.errno === 1062 || /Duplicate/.test(String((refused as Error).message)), `a duplicate key: ${String((refused as Error).message)}`);
  if (db.config.db.dialect === 'singlestore') {
    const [[t]] = (await pool.query('SHOW CREATE TABLE transactions')) as unknown as [[Record<string, string>]];
    assert.match(Object.values(t).join(' '), /SHARD KEY/i);
  }
});

test('parked events: parked once per source, a second park updates only its error, listed with their bytes', async () => {
  const base = { topic: TOPIC, partition: 3, offset: '77', txId: newTransactionId(), account: 'pk-a', batchId: 'conf-pk', errno: 1406, payload: Buffer.from('{"raw":true}'), payloadExact: true };
  await parkEvents(pool, [{ ...base, code: 'ER_DATA_TOO_LONG', reason: 'first' }]);
  await parkEvents(pool, [{ ...base, code: 'ER_DATA_TOO_LONG', reason: 'second' }]);
  assert.deepEqual(await countParked(pool, TOPIC), { parked: 1, unresolved: 1 });
  const { items } = await listParked(pool, TOPIC, { limit: 10 });
  assert.equal(items.length, 1);
  assert.equal(items[0]?.reason, 'second');
  const payload = String(items[0]?.payload);
  assert.ok(payload === '{"raw":true}' || Buffer.from(payload, 'base64').toString() === '{"raw":true}', `the bytes as parked: ${payload}`);
});

test('rollups equal the transactions they count (minute and day grain)', async () => {
  const [tx] = await pool.query('SELECT type, status, COUNT(*) AS n, SUM(amount_minor) AS s FROM transactions GROUP BY type, status');
  const expected = new Map((tx as Array<{ type: string; status: string; n: string; s: string }>).map((r) => [`${r.type}/${r.status}`, `${r.n}/${r.s}`]));
  assert.ok(expected.size >= 3, 'the earlier tests stored transactions');
  for (const table of ['rollup_minute', 'rollup_day']) {
    const [rows] = await pool.query(`SELECT type, status, SUM(tx_count) AS n, SUM(amount_minor) AS s FROM ${table} GROUP BY type, status HAVING SUM(tx_count) <> 0`);
    const got = new Map((rows as Array<{ type: string; status: string; n: string; s: string }>).map((r) => [`${r.type}/${r.status}`, `${r.n}/${r.s}`]));
    assert.deepEqual(got, expected, table);
  }
});

/** Detection as the worker runs it, with a model fitted here, so every flag carries an embedding. */
function fraudDeps(): FraudDeps {
  const random = createRandom(11);
  const samples = Array.from({ length: 200 }, () => Array.from({ length: FEATURE_COUNT }, () => random()));
  return { thresholds: fraudThresholdsOf(db.config), reviewThreshold: 0.01, reviewOpensPerBatchMax: 100, model: fitPca(samples, EMBEDDING_DIM, { seed: 11 }), nearestFraud: () => null };
}

/** Card testing: a credit, then tiny debits in a burst (fraud.cardTestingMinCount of them flag). */
const cardTesting = (account: string) => [event(0, account, 'credit', 10_000), ...Array.from({ length: 6 }, () => event(0, account, 'debit', 1))];

async function rowsOf(table: string, column: string, ids: ReadonlyArray<string>): Promise<Array<Record<string, unknown>>> {
  const [rows] = await pool.query(`SELECT * FROM ${table} WHERE ${column} IN (?) ORDER BY ${column}`, [ids]);
  return rows as Array<Record<string, unknown>>;
}

test('fraud writes: statistics, flags with their embedding, reviews and their audit in the batch transaction, none twice on a replay', async () => {
  const fraudOn: ApplyBatchDeps = { ...deps, fraud: fraudDeps() };
  const events = cardTesting('fr-a');
  const ids = events.map((e) => e.id);
  const first = await applyBatchWith(fraudOn, batch(events));
  assert.ok(first.flagged >= 1, `card testing is flagged (${first.flagged})`);
  assert.ok(first.reviews >= 1 && first.reviews <= first.flagged, `flags above the review threshold are held (${first.reviews})`);
  const [stats] = await rowsOf('account_stats', 'account', ['fr-a']);
  assert.equal(Number(stats?.tx_count), events.length, 'the statistics count each transaction once');
  const flags = await rowsOf('fraud_flags', 'tx_id', ids);
  assert.equal(flags.length, first.flagged);
  // The flag that fired carries its embedding (VECTOR(6, F32) on SingleStore); earlier members of
  // the burst are flagged without one.
  const embeddings = flags.filter((f) => f.embedding !== null).map((f) => JSON.parse(String(f.embedding)) as number[]);
  assert.ok(embeddings.length >= 1, 'an embedding is stored');
  for (const e of embeddings) assert.equal(e.filter((x) => Number.isFinite(x)).length, EMBEDDING_DIM);
  assert.equal((await rowsOf('reviews', 'tx_id', ids)).length, first.reviews);
  assert.equal((await rowsOf('review_audit', 'tx_id', ids)).filter((a) => a.action === 'opened').length, first.reviews);

  const replay = await applyBatchWith(fraudOn, batch(events));
  assert.deepEqual([replay.inserted, replay.flagged, replay.reviews], [0, 0, 0]);
  assert.equal(Number((await rowsOf('account_stats', 'account', ['fr-a']))[0]?.tx_count), events.length, 'a replay counts nothing again');
  assert.equal((await rowsOf('fraud_flags', 'tx_id', ids)).length, first.flagged);
  assert.equal((await rowsOf('review_audit', 'tx_id', ids)).length, first.reviews);
});

test('statistics stored in the JSON form of before migration 004 are read, and the next batch rewrites them in the binary form', async () => {
  const fraudOn: ApplyBatchDeps = { ...deps, fraud: fraudDeps() };
  const events = cardTesting('fr-json');
  await applyBatchWith(fraudOn, batch(events.slice(0, 3)));
  const [stored] = await rowsOf('account_stats', 'account', ['fr-json']);
  const legacy = serializeStats(decodeStats('fr-json', stored?.stats as Buffer));
  await pool.query('UPDATE account_stats SET state = ?, stats = NULL WHERE account = ?', [legacy, 'fr-json']);
  const second = await applyBatchWith(fraudOn, batch(events.slice(3)));
  assert.equal(second.inserted, events.length - 3);
  const [rewritten] = await rowsOf('account_stats', 'account', ['fr-json']);
  assert.equal(rewritten?.state, '', 'the JSON form is emptied');
  const stats = decodeStats('fr-json', rewritten?.stats as Buffer);
  assert.equal(stats.txCount, events.length, 'the count went on from the JSON row');
  assert.equal(Number(rewritten?.tx_count), events.length);
  assert.equal(stats.outCount, events.length - 1, 'every debit after the credit, the first two from the JSON row');
});

test('review reversal: a rejected payment is reversed exactly once, its vector joins the fraud set, the audit reads in order', async () => {
  const events = cardTesting('rv-a');
  const r = await applyBatchWith({ ...deps, fraud: fraudDeps() }, batch(events));
  assert.ok(r.reviews >= 2, `two reviews to decide (${r.reviews})`);
  const held = (await rowsOf('reviews', 'tx_id', events.map((e) => e.id))).map((x) => String(x.tx_id));
  const withVector = new Set((await rowsOf('fraud_flags', 'tx_id', held)).filter((f) => f.embedding !== null).map((f) => String(f.tx_id)));
  const rejected = held.find((id) => withVector.has(id)) as string;
  const approved = held.find((id) => id !== rejected) as string;
  assert.ok(rejected, 'a held payment whose flag has an embedding');
  const before = await balanceOf('rv-a');
  const decideOnce = (txId: string, action: 'approve' | 'reject') => inTransaction(pool, (conn) => decide(conn, txId, action, 'conformance', `${action} by the suite`));
  assert.deepEqual(await decideOnce(rejected, 'reject'), { status: 'rejected', reversed: true });
  assert.equal(await balanceOf('rv-a'), before + 1n, 'the debit of 1 is given back');
  assert.deepEqual(await decideOnce(rejected, 'reject'), { status: 'rejected', reversed: true }, 'a second decision changes nothing');
  assert.deepEqual(await decideOnce(rejected, 'approve'), { status: 'rejected', reversed: true });
  assert.equal(await balanceOf('rv-a'), before + 1n, 'reversed once');
  assert.deepEqual(await decideOnce(approved, 'approve'), { status: 'approved', reversed: false });
  assert.equal(await balanceOf('rv-a'), before + 1n);
  assert.deepEqual((await auditTrail(pool, rejected)).map((a) => a.action), ['opened', 'reject', 'reversed']);
  assert.deepEqual((await auditTrail(pool, approved)).map((a) => a.action), ['opened', 'approve']);
  const vector = (await loadFraudVectors(pool)).find((v) => v.txId === rejected);
  assert.equal(vector?.embedding.length, EMBEDDING_DIM, "the rejected payment's embedding is a confirmed-fraud vector, read back as numbers");
  assert.equal((await loadFraudVectors(pool)).some((v) => v.txId === approved), false);
});

test('a rejection takes the balance rows before the review row, the order of a batch that supersedes the payment (no lock cycle)', async () => {
  const events = cardTesting('rl-a');
  const r = await applyBatchWith({ ...deps, fraud: fraudDeps() }, batch(events));
  assert.ok(r.reviews >= 1);
  const [held] = (await rowsOf('reviews', 'tx_id', events.map((e) => e.id))).map((x) => String(x.tx_id));
  const tx = await getTransaction(pool, held as string);
  const keys = [balanceKey(tx?.account as string, tx?.currency as string)];
  const failuresSeen: unknown[] = [];
  // A batch superseding the payment holds its balance rows, then deletes its review (the supersession's
  // order). The rejection starts while those balance rows are held.
  let release: () => void = () => undefined;
  const holding = new Promise<void>((resolve) => (release = resolve));
  let locked: () => void = () => undefined;
  const balancesLocked = new Promise<void>((resolve) => (locked = resolve));
  const superseding = inTransaction(pool, async (conn) => {
    await lockBalances(conn, keys);
    locked();
    await holding;
    await forgetFraudOf(conn, [held as string]);
  }).catch((err: unknown) => failuresSeen.push(err));
  await balancesLocked;
  const rejecting = inTransaction(pool, (conn) => decide(conn, held as string, 'reject', 'conformance', 'lock order')).catch((err: unknown) => {
    failuresSeen.push(err);
    return null;
  });
  // Long enough for the rejection to reach its first lock wait on this loaded machine.
  await new Promise((resolve) => setTimeout(resolve, 500));
  release();
  await superseding;
  const outcome = await rejecting;
  assert.deepEqual(failuresSeen.map((e) => (e as { code?: string }).code ?? String(e)), [], 'no deadlock, no lock-wait timeout');
  assert.deepEqual(outcome, { status: 'rejected', reversed: false }, 'the review went with the superseded payment: nothing to reverse');
});

test('transactions run READ COMMITTED: a second read of the same transaction sees a row committed meanwhile', async () => {
  const other = createPool(db.config, 'app', 1);
  const probe = async (account: string, inside: (body: (conn: Connection) => Promise<number[]>) => Promise<number[]>) =>
    inside(async (conn) => {
      const count = async () => Number(((await conn.query('SELECT COUNT(*) AS n FROM balances WHERE account = ?', [account])) as unknown as [[{ n: number }]])[0][0].n);
      const before = await count();
      await other.query("INSERT INTO balances (account, currency, balance_minor, version) VALUES (?, 'EUR', 0, 0)", [account]);
      return [before, await count()];
    });
  try {
    assert.deepEqual(await probe('rc-probe', (body) => inTransaction(pool, body)), [0, 1], 'the batch transaction reads what others committed');
    if (db.config.db.dialect === 'mariadb') {
      // The probe tells the levels apart: under REPEATABLE READ the second read still sees nothing.
      const conn = await pool.getConnection();
      try {
        const seen = await probe('rr-probe', async (body) => {
          await conn.query('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ');
          await conn.beginTransaction();
          try {
            return await body(conn);
          } finally {
            await conn.rollback();
          }
        });
        assert.deepEqual(seen, [0, 0]);
      } finally {
        conn.release();
      }
    }
  } finally {
    await other.end();
  }
});

test('extremes: BIGINT balances at both ends, DECIMAL(38,0) rollup sums past BIGINT, millisecond instants', async () => {
  const low = -MINOR_UNITS_MAX - 1n;
  await inTransaction(pool, (conn) => writeBalances(conn, new Map([['ex-hi\u0000EUR', MINOR_UNITS_MAX], ['ex-lo\u0000EUR', low]])));
  assert.equal(await balanceOf('ex-hi'), MINOR_UNITS_MAX);
  assert.equal(await balanceOf('ex-lo'), low);
  const huge = 10n ** 37n;
  const delta = { minute: '2001-02-03 04:05:00', type: 'credit' as const, currency: 'XTS', status: 'applied' as const, reason: '', count: 1, sumMinor: huge };
  for (let i = 0; i < 2; i++) await inTransaction(pool, (conn) => applyRollups(conn, new Map([['x', delta]]), deps.sharedRowsPerStatement));
  const [rows] = await pool.query("SELECT CAST(amount_minor AS CHAR) AS s FROM rollup_day WHERE currency = 'XTS'");
  assert.equal((rows as Array<{ s: string }>)[0]?.s, (2n * huge).toString());
  await pool.query("DELETE FROM rollup_minute WHERE currency = 'XTS'");
  await pool.query("DELETE FROM rollup_day WHERE currency = 'XTS'");
  const at = '2030-01-02T03:04:05.678Z';
  const e = event(0, 'ex-time', 'credit', 1, { occurredAt: at });
  await apply([e]);
  assert.equal((await getTransaction(pool, e.id))?.occurredAt, at);
});

test('migrations: two runners at once apply each migration once (the migration lock), the second finds them applied', async () => {
  const fresh = await createConformanceDb(process.env, { migrate: false });
  try {
    const reports = await Promise.all([migrate(fresh.config), migrate(fresh.config)]);
    const versions = loadMigrations(fresh.config.db.dialect).map((m) => m.version);
    const applied = reports.flatMap((r) => r.applied).sort((a, b) => a - b);
    assert.deepEqual(applied, versions, 'every migration applied, and by one runner only');
    for (const r of reports) assert.deepEqual([...r.applied, ...r.alreadyApplied].sort((a, b) => a - b), versions);
    const again = await migrate(fresh.config);
    assert.deepEqual(again, { applied: [], alreadyApplied: versions });
  } finally {
    await fresh.drop();
  }
});

import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { Config } from '../config';
import { newTransactionId } from '../domain/ids';
import { BALANCE_MAX_MINOR } from '../domain/money';
import { connectProducerWithTopics, createKafka, sendKeyed } from '../kafka/client';
import { listParked } from '../store/parked';
import { createPool, type Pool } from '../store/pool';
import { accountBalances } from '../store/queries';
import type { Logger } from '../telemetry/log';
import { childNodeArgs, cliPath } from './fleet';

const run = promisify(execFile);

/**
 * Poison faults (docs/decisions/020-poison-isolation.md) injected for real into a chaos run: the
 * run's rules.maxAmountMinor is raised to this (a value the config accepts), so credits of it
 * overflow a balance after nine; and a real trigger the run installs in its scratch database
 * refuses every event carrying POISON_MARKER, so those are isolated and parked until the run
 * removes the trigger and replays them through `ledgerflow parked replay`.
 */
export const CHAOS_MAX_AMOUNT_MINOR = '999999999999999999';
/** Credits of CHAOS_MAX_AMOUNT_MINOR one poison fault sends to one fresh account. */
export const OVERFLOW_CREDITS = 12;
/** Of those, the ones that fit under the BIGINT balance; the rest are rejected `balance_overflow`. */
export const OVERFLOW_APPLIED = Math.min(OVERFLOW_CREDITS, Number(BALANCE_MAX_MINOR / BigInt(CHAOS_MAX_AMOUNT_MINOR)));
/** Events the store refuses per poison fault (each in its own account). */
export const REFUSED_PER_FAULT = 2;
export const POISON_MARKER = 'chaos-poison';
const TRIGGER = 'lf_chaos_poison';

interface InjectedPoison {
  overflowAccount: string;
  overflowIds: string[];
  refused: Array<{ id: string; account: string; amountMinor: string }>;
}

export interface PoisonReport {
  /** Poison faults injected (each: OVERFLOW_CREDITS credits to one account plus REFUSED_PER_FAULT refused events). */
  injections: number;
  overflowCredits: number;
  /** Stored `rejected` with reason `balance_overflow` / expected (OVERFLOW_CREDITS − OVERFLOW_APPLIED per injection). */
  overflowRejected: number;
  overflowRejectedExpected: number;
  overflowApplied: number;
  overflowAppliedExpected: number;
  /** Events the trigger refused: parked (unresolved) once the load drained, before the replay. */
  refused: number;
  parkedBeforeReplay: number;
  /** Parked events that are not ours (should be 0: nothing else is refused). */
  unexpectedParked: number;
  replayed: number;
  /** Refused events stored exactly once, `applied`, after the replay. */
  storedAfterReplay: number;
  /** Poison accounts whose stored balance is not the exact sum expected. */
  balanceMismatches: number;
  ok: boolean;
  examples: string[];
}

export class PoisonInjector {
  private readonly injected: InjectedPoison[] = [];
  private parkedBefore = 0;
  private unexpected = 0;
  private replayed = 0;

  constructor(
    private readonly config: Config,
    private readonly runId: string,
    private readonly childEnv: () => NodeJS.ProcessEnv,
    private readonly log: Logger,
  ) {}

  /** Installs the refusing trigger (a real one: the store, not a mock, refuses the events). */
  async install(): Promise<void> {
    await this.withAdmin((admin) => admin.query(
      `CREATE TRIGGER ${TRIGGER} BEFORE INSERT ON transactions FOR EACH ROW BEGIN IF NEW.description = '${POISON_MARKER}' THEN `
      + `SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'chaos: poison event refused by the store'; END IF; END`,
    ));
  }

  async remove(): Promise<void> {
    await this.withAdmin((admin) => admin.query(`DROP TRIGGER IF EXISTS ${TRIGGER}`));
  }

  /** One poison fault: the overflowing credits and the refused events, sent and acknowledged. */
  async inject(onAcknowledged: (ids: string[]) => void): Promise<void> {
    const n = this.injected.length;
    const tag = this.runId.replace(/^chaos-/, '');
    const at = new Date().toISOString();
    const credit = (account: string, amountMinor: string, description?: string) => ({
      id: newTransactionId(), account, type: 'credit', amountMinor, currency: 'EUR', occurredAt: at, ...(description ? { description } : {}),
    });
    const overflowAccount = `poison-ovf-${tag}-${n}`;
    const overflow = Array.from({ length: OVERFLOW_CREDITS }, () => credit(overflowAccount, CHAOS_MAX_AMOUNT_MINOR));
    const refused = Array.from({ length: REFUSED_PER_FAULT }, (_, i) => credit(`poison-ref-${tag}-${n}-${i}`, String(1_000 + 100 * n + i), POISON_MARKER));
    const kafka = createKafka(this.config, 'chaos-poison', this.log);
    const target = await connectProducerWithTopics(this.config, kafka, 'transactions');
    try {
      await sendKeyed(target, this.config.kafka.topic, [...overflow, ...refused].map((e) => ({ key: e.account, value: JSON.stringify(e) })));
    } finally {
      await target.producer.disconnect().catch(() => undefined);
    }
    this.injected.push({
      overflowAccount, overflowIds: overflow.map((e) => e.id), refused: refused.map((e) => ({ id: e.id, account: e.account, amountMinor: e.amountMinor })),
    });
    onAcknowledged([...overflow, ...refused].map((e) => e.id));
  }

  get injections(): number {
    return this.injected.length;
  }

  /**
   * After the load drained: every refused event must be parked (and nothing else); then the trigger
   * goes and each is replayed through the operator's path, `ledgerflow parked replay`.
   */
  async replayParked(): Promise<void> {
    const pool = createPool(this.config, 'app', 1);
    let items: Awaited<ReturnType<typeof listParked>>['items'];
    try {
      items = (await listParked(pool, this.config.kafka.topic, { limit: 10_000, unresolved: true })).items;
    } finally {
      await pool.end();
    }
    const ours = new Set(this.injected.flatMap((p) => p.refused.map((r) => r.id)));
    this.parkedBefore = items.filter((p) => ours.has(p.txId)).length;
    this.unexpected = items.length - this.parkedBefore;
    await this.remove();
    for (const p of items) {
      await run(process.execPath, [...childNodeArgs(), cliPath(), 'parked', 'replay', p.id], { env: this.childEnv(), timeout: 120_000 });
      this.replayed += 1;
    }
  }

  /** Once the replays drained: exact accounting of every poison event. */
  async check(): Promise<PoisonReport> {
    const pool = createPool(this.config, 'app', 1);
    const big = BigInt(CHAOS_MAX_AMOUNT_MINOR);
    const r: PoisonReport = {
      injections: this.injected.length, overflowCredits: 0, overflowRejected: 0, overflowRejectedExpected: 0, overflowApplied: 0, overflowAppliedExpected: 0,
      refused: 0, parkedBeforeReplay: this.parkedBefore, unexpectedParked: this.unexpected, replayed: this.replayed, storedAfterReplay: 0,
      balanceMismatches: 0, ok: false, examples: [],
    };
    try {
      for (const p of this.injected) {
        r.overflowCredits += p.overflowIds.length;
        r.overflowAppliedExpected += OVERFLOW_APPLIED;
        r.overflowRejectedExpected += p.overflowIds.length - OVERFLOW_APPLIED;
        const [rows] = await pool.query('SELECT status, reason, COUNT(*) AS n FROM transactions WHERE id IN (?) GROUP BY status, reason', [p.overflowIds]);
        for (const row of rows as Array<{ status: string; reason: string | null; n: number }>) {
          if (row.status === 'applied') r.overflowApplied += Number(row.n);
          else if (row.status === 'rejected' && row.reason === 'balance_overflow') r.overflowRejected += Number(row.n);
          else if (r.examples.length < 5) r.examples.push(`${p.overflowAccount}: ${row.n} ${row.status} ${row.reason ?? ''}`);
        }
        await this.expectBalance(pool, p.overflowAccount, BigInt(OVERFLOW_APPLIED) * big, r);
        for (const e of p.refused) {
          r.refused += 1;
          const [stored] = await pool.query('SELECT status FROM transactions WHERE id = ?', [e.id]);
          const list = stored as Array<{ status: string }>;
          if (list.length === 1 && list[0]?.status === 'applied') r.storedAfterReplay += 1;
          else if (r.examples.length < 5) r.examples.push(`${e.id}: stored ${list.map((x) => x.status).join(',') || 'nowhere'}`);
          await this.expectBalance(pool, e.account, BigInt(e.amountMinor), r);
        }
      }
    } finally {
      await pool.end();
    }
    r.ok = r.overflowApplied === r.overflowAppliedExpected && r.overflowRejected === r.overflowRejectedExpected && r.parkedBeforeReplay === r.refused
      && r.unexpectedParked === 0 && r.replayed === r.refused && r.storedAfterReplay === r.refused && r.balanceMismatches === 0;
    return r;
  }

  private async expectBalance(pool: Pool, account: string, expected: bigint, r: PoisonReport): Promise<void> {
    // Settled plus pending, as the API reads it.
    const got = BigInt((await accountBalances(pool, account)).find((b) => b.currency === 'EUR')?.balanceMinor ?? '0');
    if (got === expected) return;
    r.balanceMismatches += 1;
    if (r.examples.length < 5) r.examples.push(`${account}: balance ${got}, expected ${expected}`);
  }

  private async withAdmin<T>(body: (admin: Pool) => Promise<T>): Promise<T> {
    const admin = createPool(this.config, 'migrate', 1);
    try {
      return await body(admin);
    } finally {
      await admin.end();
    }
  }
}

import type { Config } from '../config';
import { deleteExpiredClaims } from '../store/idempotency';
import type { Pool } from '../store/pool';
import { deleteExpiredSessions } from '../store/sessions';
import type { Logger } from '../telemetry/log';

/** Rows one DELETE removes at most: short statements, short locks. */
const DELETE_CHUNK = 5_000;
/** Deletes stop after this many chunks in one pass; the next pass goes on. */
const CHUNKS_PER_PASS_MAX = 20;
const PASS_EVERY_MS = 60_000;

/**
 * Deletes Idempotency-Keys past api.idempotencyRetentionS and expired sessions, once a minute.
 * Every replica runs it; the deletes are idempotent, so replicas racing each other are harmless.
 * Until a row is deleted, reads treat it as expired by its timestamp, so the retention is exact.
 */
export function startRetention(config: Config, pool: Pool, log: Logger): { stop(): void } {
  let running = false;
  const pass = async () => {
    if (running) return;
    running = true;
    try {
      let deleted = 0;
      for (let chunk = 0; chunk < CHUNKS_PER_PASS_MAX; chunk++) {
        const n = await deleteExpiredClaims(pool, config.api.idempotencyRetentionS, DELETE_CHUNK);
        deleted += n;
        if (n < DELETE_CHUNK) break;
      }
      deleted += await deleteExpiredSessions(pool, DELETE_CHUNK);
      if (deleted > 0) log.info({ deleted }, 'api retention: expired idempotency keys and sessions deleted');
    } catch (err) {
      log.warn({ err: (err as Error).message }, 'api retention pass failed; the next one tries again');
    } finally {
      running = false;
    }
  };
  const timer = setInterval(() => void pass(), PASS_EVERY_MS);
  timer.unref();
  void pass();
  return { stop: () => clearInterval(timer) };
}

import fs from 'node:fs';
import { Client, Connection, WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import type { ReviewStart, FraudDeps } from '../activities/fraud';
import { fraudThresholdsOf, type Config } from '../config';
import { LedgerflowError } from '../domain/errors';
import { isPcaModel, type PcaModel } from '../domain/fraud/embedding';
import { undecidedReviewCount } from '../store/fraud';
import { FraudVectorIndex } from '../store/fraudIndex';
import type { Metrics } from '../telemetry/metrics';
import type { Pool } from '../store/pool';
import type { Logger } from '../telemetry/log';
import { temporalConnectionOptions } from '../temporal/connection';
import type { ReviewInput } from '../workflows/types';
import { dataConverter } from '../temporal/codec';
import { forEachInFlight } from '../temporal/inFlight';

export function loadFraudModel(modelPath: string): PcaModel | null {
  if (!modelPath) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(fs.readFileSync(modelPath, 'utf8'));
  } catch (err) {
    throw new LedgerflowError('LF_CONFIG', `fraud.modelPath (LF_FRAUD_MODEL_PATH): cannot read ${modelPath}: ${(err as Error).message}`, 'fraud.modelPath');
  }
  if (!isPcaModel(parsed)) throw new LedgerflowError('LF_CONFIG', `fraud.modelPath (LF_FRAUD_MODEL_PATH): ${modelPath} is not a model written by \`ledgerflow fraud train\``, 'fraud.modelPath');
  return parsed;
}

export interface FraudRuntime {
  deps: FraudDeps | undefined;
  stop(): Promise<void>;
}

/**
 * Review workflows started at once. A batch starts one per review it opened (at most
 * fraud.reviewOpensPerBatchMax), and its activity returns only after they started (a retry starts
 * the missing ones; ids make it idempotent): one after another they were all on the batch's path.
 */
const REVIEW_STARTS_IN_FLIGHT = 32;

/**
 * The worker's fraud detection: thresholds and model from config, the confirmed-fraud vector index
 * (refreshed on a timer), and a Temporal client that starts reviewTransaction workflows.
 */
export async function startFraudRuntime(config: Config, pool: Pool, log: Logger, metrics?: Metrics): Promise<FraudRuntime> {
  if (!config.fraud.enabled) return { deps: undefined, stop: async () => undefined };
  const model = loadFraudModel(config.fraud.modelPath);
  const index = new FraudVectorIndex();
  await index.refresh(pool);
  const timer = setInterval(() => void index.refresh(pool).catch((err: Error) => log.warn({ err: err.message }, 'fraud vector refresh failed')), config.fraud.vectorRefreshMs);
  timer.unref();
  let connection: Connection | undefined;
  const deps: FraudDeps = {
    thresholds: fraudThresholdsOf(config),
    reviewThreshold: config.fraud.reviewThreshold,
    reviewOpensPerBatchMax: config.fraud.reviewOpensPerBatchMax,
    model,
    nearestFraud: (v) => index.nearest(v),
  };
  if (config.fraud.reviewEnabled) {
    deps.reviewQueueMax = config.fraud.reviewQueueMax;
    if (metrics) {
      // Present from the start at 0, so rate() and the alert see a series before the first overflow.
      metrics.reviewsNotQueued.inc({ reason: 'batch_limit' }, 0);
      metrics.reviewsNotQueued.inc({ reason: 'queue_full' }, 0);
      metrics.reviewQueueMax.set(config.fraud.reviewQueueMax);
      metrics.reviewQueueDepth.set(await undecidedReviewCount(pool));
      deps.onReviewAdmission = (a) => {
        if (a.opened + a.overBatchLimit + a.queueFull === 0) return;
        metrics.reviewsOpened.inc(a.opened);
        metrics.reviewsNotQueued.inc({ reason: 'batch_limit' }, a.overBatchLimit);
        metrics.reviewsNotQueued.inc({ reason: 'queue_full' }, a.queueFull);
        metrics.reviewQueueDepth.set(a.queueDepth);
      };
    }
    connection = await Connection.connect(temporalConnectionOptions(config));
    const client = new Client({ connection, namespace: config.temporal.namespace, dataConverter: dataConverter() });
    const start = async (r: ReviewStart) => {
      const input: ReviewInput = { txId: r.txId, account: r.account, score: r.score, escalateAfterMs: config.fraud.reviewEscalateAfterMs };
      try {
        await client.workflow.start('reviewTransaction', { taskQueue: config.temporal.taskQueue, workflowId: reviewWorkflowId(r.txId), args: [input] });
      } catch (err) {
        if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
      }
    };
    deps.startReviews = (reviews: ReadonlyArray<ReviewStart>) => forEachInFlight(reviews, REVIEW_STARTS_IN_FLIGHT, start);
  }
  log.info({ model: model ? `pca(${model.components.length})` : 'none', vectors: index.size, index: index.kind, reviews: config.fraud.reviewEnabled, reviewQueueMax: deps.reviewQueueMax ?? null }, 'fraud detection on');
  return {
    deps,
    stop: async () => {
      clearInterval(timer);
      await connection?.close();
    },
  };
}

export function reviewWorkflowId(txId: string): string {
  return `review-${txId}`;
}

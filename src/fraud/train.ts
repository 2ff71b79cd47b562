import fs from 'node:fs';
import path from 'node:path';
import { fraudThresholdsOf, type Config } from '../config';
import { EMBEDDING_DIM, fitPca, normalised, project, type PcaModel } from '../domain/fraud/embedding';
import { evaluateFlags } from '../domain/fraud/evaluate';
import { createRandom } from '../domain/random';
import { FRAUD_PATTERNS } from '../producer/traffic';
import type { Logger } from '../telemetry/log';
import { runOffline } from './offline';

export interface TrainOptions {
  seed: number;
  count: number;
  accounts: number;
  fraudRate: number;
  out: string;
}

/** A trained model plus the training workload's labelled fraud, the first confirmed-fraud vectors. */
export interface TrainedModel extends PcaModel {
  fraudVectors: Array<{ txId: string; account: string; embedding: number[] }>;
}

const SAMPLES_MAX = 100_000;
const FRAUD_VECTORS_MAX = 2_000;

/**
 * `ledgerflow fraud train`: generates a labelled workload from the seed, runs the pure detector
 * over it in memory to get each transaction's feature vector, fits PCA on the normal ones only,
 * and writes the model (JSON). The labelled fraud of this seed becomes the confirmed-fraud set.
 */
export function train(config: Config, options: TrainOptions, log: Logger): { model: TrainedModel; file: string } {
  const thresholds = fraudThresholdsOf(config);
  const workload = { seed: options.seed, accounts: options.accounts, fraudRate: options.fraudRate, count: options.count, clock: 'simulated' as const };
  const keep = createRandom(options.seed ^ 0x5eed);
  const normal: number[][] = [];
  const fraud: Array<{ id: string; features: number[] }> = [];
  let seen = 0;
  runOffline(workload, thresholds, {
    onFeatures: (id, features, isFraud) => {
      if (isFraud) fraud.push({ id, features });
      else if (normal.length < SAMPLES_MAX) normal.push(features);
      else if (keep() < SAMPLES_MAX / ++seen) normal[Math.floor(keep() * SAMPLES_MAX)] = features; // reservoir sample
    },
  });
  const pca = fitPca(normal, EMBEDDING_DIM, { seed: options.seed });
  const fraudVectors = fraud.slice(0, FRAUD_VECTORS_MAX).map((f) => ({ txId: f.id, account: 'training', embedding: normalised(project(pca, f.features).embedding) }));
  const model: TrainedModel = { ...pca, fraudVectors };

  // The same seed again, now with the model and the fraud vectors: what the extra detectors add.
  const vectors = fraudVectors.map((v) => v.embedding);
  const nearest = (e: number[]) => {
    let best = -Infinity;
    for (const v of vectors) best = Math.max(best, v.reduce((s, x, j) => s + x * (e[j] as number), 0));
    return vectors.length ? { similarity: best, txId: 'training' } : null;
  };
  const check = runOffline(workload, thresholds, { model, nearestFraud: nearest });
  const { overall } = evaluateFlags(check.labels, check.flags, FRAUD_PATTERNS);
  const file = path.resolve(options.out);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, `${JSON.stringify(model)}\n`);
  log.info({ file, samples: normal.length, fraudVectors: fraudVectors.length, trainingPrecision: overall.precision.toFixed(4), trainingRecall: overall.recall.toFixed(4) }, 'fraud model trained');
  return { model, file };
}

import { invariant } from '../errors';
import { expectedShortCount, type FraudThresholds, type ScoredEvent } from './rules';
import type { AccountStats } from './stats';

/**
 * A fixed feature vector of a transaction in its account's context, and a PCA model fitted on
 * normal traffic that maps it to a small embedding (for nearest-neighbour search) and a
 * reconstruction residual (how badly normal traffic explains it).
 */
export const FEATURE_NAMES = [
  'is_debit', 'is_transfer', 'log_amount', 'z_log_amount', 'log_ratio_to_mean', 'log_out_short', 'log_tiny_short',
  'log_new_cp_short', 'log_velocity_ratio', 'log_idle_days', 'log_out_count', 'new_counterparty', 'log_age_days',
] as const;
export const FEATURE_COUNT = FEATURE_NAMES.length;
/** Components of the embedding: fixed, because SingleStore stores it as VECTOR(6, F32). */
export const EMBEDDING_DIM = 6;

const DAY_MS = 86_400_000;

export function featuresOf(e: ScoredEvent, prev: AccountStats, next: AccountStats, newCounterparty: boolean, t: FraudThresholds): number[] {
  const amount = Math.max(1, Number(e.amountMinor));
  const hasHistory = prev.outCount >= 2;
  const expected = expectedShortCount(prev, t, e.occurredAtMs);
  return [
    e.type === 'debit' ? 1 : 0,
    e.type === 'transfer' ? 1 : 0,
    Math.log(amount),
    hasHistory ? (Math.log(amount) - prev.ewmaLogAmount) / Math.sqrt(prev.ewmaLogVar + 0.25) : 0,
    hasHistory ? Math.log(amount / Math.max(1, prev.ewmaAmount)) : 0,
    Math.log1p(next.outShort),
    Math.log1p(next.tinyShort),
    Math.log1p(next.newCounterpartyShort),
    expected > 0 ? Math.log1p(next.outShort / expected) : 0,
    prev.lastSeenMs === null ? 0 : Math.log1p(Math.max(0, e.occurredAtMs - prev.lastSeenMs) / DAY_MS),
    Math.log1p(prev.outCount),
    newCounterparty ? 1 : 0,
    prev.firstSeenMs === null ? 0 : Math.log1p(Math.max(0, e.occurredAtMs - prev.firstSeenMs) / DAY_MS),
  ];
}

export interface PcaModel {
  version: 1;
  featureNames: string[];
  mean: number[];
  std: number[];
  /** Row-major components (k × d), orthonormal. */
  components: number[][];
  /** Residual norm at the 99.9th percentile of the training data: residual scores are relative to it. */
  residualScale: number;
  trainedOn: { seed: number; samples: number };
}

/** Symmetric eigen-decomposition by cyclic Jacobi rotations (d is ~13, so this is instant). */
export function symmetricEigen(matrix: number[][]): { values: number[]; vectors: number[][] } {
  const d = matrix.length;
  const a = matrix.map((row) => [...row]);
  const v: number[][] = Array.from({ length: d }, (_, i) => Array.from({ length: d }, (_, j) => (i === j ? 1 : 0)));
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let p = 0; p < d; p++) for (let q = p + 1; q < d; q++) off += (a[p]![q] as number) ** 2;
    if (off < 1e-18) break;
    for (let p = 0; p < d; p++) {
      for (let q = p + 1; q < d; q++) {
        const apq = a[p]![q] as number;
        if (Math.abs(apq) < 1e-300) continue;
        const theta = ((a[q]![q] as number) - (a[p]![p] as number)) / (2 * apq);
        const tan = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(tan * tan + 1);
        const s = tan * c;
        for (let k = 0; k < d; k++) {
          const akp = a[k]![p] as number;
          const akq = a[k]![q] as number;
          a[k]![p] = c * akp - s * akq;
          a[k]![q] = s * akp + c * akq;
        }
        for (let k = 0; k < d; k++) {
          const apk = a[p]![k] as number;
          const aqk = a[q]![k] as number;
          a[p]![k] = c * apk - s * aqk;
          a[q]![k] = s * apk + c * aqk;
        }
        for (let k = 0; k < d; k++) {
          const vkp = v[k]![p] as number;
          const vkq = v[k]![q] as number;
          v[k]![p] = c * vkp - s * vkq;
          v[k]![q] = s * vkp + c * vkq;
        }
      }
    }
  }
  const order = a.map((row, i) => ({ value: row[i] as number, i })).sort((x, y) => y.value - x.value);
  return { values: order.map((o) => o.value), vectors: order.map((o) => v.map((row) => row[o.i] as number)) };
}

/** Fits PCA with k components on (normal) feature vectors. */
export function fitPca(samples: ReadonlyArray<number[]>, k: number, trainedOn: { seed: number }): PcaModel {
  invariant(samples.length > FEATURE_COUNT, 'PCA needs more samples than features', samples.length);
  const d = FEATURE_COUNT;
  const mean = new Array<number>(d).fill(0);
  for (const x of samples) for (let j = 0; j < d; j++) mean[j]! += x[j] as number;
  for (let j = 0; j < d; j++) mean[j]! /= samples.length;
  const std = new Array<number>(d).fill(0);
  for (const x of samples) for (let j = 0; j < d; j++) std[j]! += ((x[j] as number) - (mean[j] as number)) ** 2;
  for (let j = 0; j < d; j++) std[j] = Math.sqrt((std[j] as number) / samples.length) || 1;
  const cov = Array.from({ length: d }, () => new Array<number>(d).fill(0));
  for (const x of samples) {
    const z = x.map((v, j) => (v - (mean[j] as number)) / (std[j] as number));
    for (let i = 0; i < d; i++) for (let j = i; j < d; j++) cov[i]![j]! += (z[i] as number) * (z[j] as number);
  }
  for (let i = 0; i < d; i++) for (let j = i; j < d; j++) cov[j]![i] = cov[i]![j]! /= samples.length;
  const { vectors } = symmetricEigen(cov);
  const model: PcaModel = { version: 1, featureNames: [...FEATURE_NAMES], mean, std, components: vectors.slice(0, k), residualScale: 1, trainedOn: { seed: trainedOn.seed, samples: samples.length } };
  const residuals = samples.map((x) => project(model, x).residual).sort((a, b) => a - b);
  model.residualScale = Math.max(1e-6, residuals[Math.floor(residuals.length * 0.999)] as number);
  return model;
}

/**
 * Embedding (k components of the standardised vector) and the norm of what they leave out. Plain
 * loops: this runs for every scored transaction inside the batch's database transaction.
 */
export function project(model: PcaModel, x: ReadonlyArray<number>): { embedding: number[]; residual: number } {
  const d = x.length;
  const z = new Array<number>(d);
  let residual2 = 0;
  for (let j = 0; j < d; j++) {
    const v = ((x[j] as number) - (model.mean[j] as number)) / (model.std[j] as number);
    z[j] = v;
    residual2 += v * v;
  }
  const embedding = new Array<number>(model.components.length);
  for (let k = 0; k < model.components.length; k++) {
    const c = model.components[k] as number[];
    let sum = 0;
    for (let j = 0; j < d; j++) sum += (c[j] as number) * (z[j] as number);
    embedding[k] = sum;
  }
  for (const y of embedding) residual2 -= y * y;
  return { embedding, residual: Math.sqrt(Math.max(0, residual2)) / model.residualScale };
}

/** Unit-length copy: inner product of two normalised vectors is their cosine similarity. */
export function normalised(v: ReadonlyArray<number>): number[] {
  const norm = Math.sqrt(v.reduce((s, x) => s + x * x, 0));
  return norm === 0 ? v.map(() => 0) : v.map((x) => x / norm);
}

export function isPcaModel(value: unknown): value is PcaModel {
  const m = value as PcaModel;
  return (
    typeof m === 'object' && m !== null && m.version === 1 && Array.isArray(m.mean) && m.mean.length === FEATURE_COUNT &&
    Array.isArray(m.components) && m.components.every((c) => Array.isArray(c) && c.length === FEATURE_COUNT)
  );
}

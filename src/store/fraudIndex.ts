import { EMBEDDING_DIM } from '../domain/fraud/embedding';
import type { NearestFraud } from '../domain/fraud/detect';
import { loadFraudVectors, type FraudVectorRow } from './fraud';
import type { Pool } from './pool';

/**
 * The in-process nearest-neighbour set of confirmed-fraud vectors (MariaDB has no vector type).
 * HNSW from usearch (prebuilt N-API addon, no install script) when it loads; otherwise an exact
 * scan, which is what a set of a few thousand 6-dimensional vectors needs anyway
 * (docs/decisions/006-fraud-vector-index.md).
 */
interface Hnsw {
  add(key: bigint, vector: Float32Array): void;
  search(vector: Float32Array, k: number): { keys: BigUint64Array; distances: Float32Array };
}

function loadHnsw(): Hnsw | null {
  try {
    const { Index } = require('usearch') as { Index: new (options: { dimensions: number; metric: string; connectivity: number }) => Hnsw };
    return new Index({ dimensions: EMBEDDING_DIM, metric: 'ip', connectivity: 16 });
  } catch {
    return null;
  }
}

export class FraudVectorIndex {
  readonly kind: 'hnsw' | 'exact';
  private readonly ids: string[] = [];
  private readonly vectors: number[][] = [];
  private readonly known = new Set<string>();
  private readonly hnsw: Hnsw | null;

  constructor(preferHnsw = true) {
    this.hnsw = preferHnsw ? loadHnsw() : null;
    this.kind = this.hnsw ? 'hnsw' : 'exact';
  }

  get size(): number {
    return this.ids.length;
  }

  add(rows: ReadonlyArray<FraudVectorRow>): void {
    for (const row of rows) {
      if (this.known.has(row.txId) || row.embedding.length !== EMBEDDING_DIM) continue;
      this.known.add(row.txId);
      this.hnsw?.add(BigInt(this.ids.length), Float32Array.from(row.embedding));
      this.ids.push(row.txId);
      this.vectors.push(row.embedding);
    }
  }

  /** Nearest vector by inner product (cosine similarity for unit vectors). */
  nearest(embedding: number[]): NearestFraud | null {
    if (this.ids.length === 0) return null;
    if (this.hnsw) {
      const { keys, distances } = this.hnsw.search(Float32Array.from(embedding), 1);
      // usearch's 'ip' distance is 1 - inner product.
      return { similarity: 1 - (distances[0] as number), txId: this.ids[Number(keys[0])] as string };
    }
    let best = -Infinity;
    let at = 0;
    for (let i = 0; i < this.vectors.length; i++) {
      const v = this.vectors[i] as number[];
      let dot = 0;
      for (let j = 0; j < EMBEDDING_DIM; j++) dot += (v[j] as number) * (embedding[j] as number);
      if (dot > best) {
        best = dot;
        at = i;
      }
    }
    return { similarity: best, txId: this.ids[at] as string };
  }

  /** Adds vectors confirmed since the last refresh. */
  async refresh(pool: Pool): Promise<void> {
    this.add(await loadFraudVectors(pool));
  }
}

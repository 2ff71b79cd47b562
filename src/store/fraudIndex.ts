import { EMBEDDING_DIM } from '../domain/fraud/embedding';
import type { NearestFraud } from '../domain/fraud/detect';
import { loadFraudVectors, type FraudVectorRow } from './fraud';
import type { Pool } from './pool';

/**
 * The in-process nearest-neighbour set of confirmed-fraud vectors (MariaDB has no vector type).
 * HNSW from hnswlib-node when its native addon loads; otherwise an exact scan, which is what a set
 * of a few thousand 6-dimensional vectors needs anyway (see docs/decisions/005-fraud-vector-index.md).
 */
interface Hnsw {
  initIndex(options: { maxElements: number }): void;
  resizeIndex(size: number): void;
  getMaxElements(): number;
  addPoint(point: number[], label: number): void;
  searchKnn(point: number[], k: number): { distances: number[]; neighbors: number[] };
}

function loadHnsw(): (new (space: string, dim: number) => Hnsw) | null {
  try {
    return (require('hnswlib-node') as { HierarchicalNSW: new (space: string, dim: number) => Hnsw }).HierarchicalNSW;
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
    const Hnsw = preferHnsw ? loadHnsw() : null;
    this.hnsw = Hnsw ? new Hnsw('ip', EMBEDDING_DIM) : null;
    this.hnsw?.initIndex({ maxElements: 1024 });
    this.kind = this.hnsw ? 'hnsw' : 'exact';
  }

  get size(): number {
    return this.ids.length;
  }

  add(rows: ReadonlyArray<FraudVectorRow>): void {
    for (const row of rows) {
      if (this.known.has(row.txId) || row.embedding.length !== EMBEDDING_DIM) continue;
      this.known.add(row.txId);
      if (this.hnsw) {
        if (this.ids.length >= this.hnsw.getMaxElements()) this.hnsw.resizeIndex(this.hnsw.getMaxElements() * 2);
        this.hnsw.addPoint(row.embedding, this.ids.length);
      }
      this.ids.push(row.txId);
      this.vectors.push(row.embedding);
    }
  }

  /** Nearest vector by inner product (cosine similarity for unit vectors). */
  nearest(embedding: number[]): NearestFraud | null {
    if (this.ids.length === 0) return null;
    if (this.hnsw) {
      const { distances, neighbors } = this.hnsw.searchKnn(embedding, 1);
      // hnswlib's 'ip' distance is 1 - inner product.
      return { similarity: 1 - (distances[0] as number), txId: this.ids[neighbors[0] as number] as string };
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

import { comparePositions, contentOf, differingFields, type Content, type Position } from '../domain/identity';
import { balanceKey } from '../domain/ledger';
import type { SourcedEvent } from '../domain/transaction';
import type { ConflictInput } from '../store/conflicts';
import { storedContent, type StoredVariant } from '../store/identity';
import { originalOf, packedEventTexts } from '../temporal/packedBatch';

/**
 * Which variant of an id is stored, decided against what is stored already
 * (docs/decisions/021-one-id-one-payment.md). The variant at the earliest position (lowest
 * partition, then offset) wins; a later variant with other content is a conflict; an earlier one
 * supersedes the stored row (its effects reversed in the same transaction).
 */
export interface IdResolution {
  /** The batch's events to decide: new ids, and earlier variants that supersede a stored row. */
  fresh: SourcedEvent[];
  /** Copies of a stored (or earlier) event with the same content: skipped. */
  duplicates: number;
  /** Conflicts to record (payload still to be filled for the arriving ones). */
  conflicts: Array<Omit<ConflictInput, 'payload' | 'topic' | 'batchId'> & { arriving: SourcedEvent | null }>;
  /** Stored rows a fresh event supersedes. */
  superseded: StoredVariant[];
  /** Stored rows whose source moves to an earlier copy with the same content. */
  moves: Array<{ stored: StoredVariant; to: SourcedEvent }>;
}

/** A supersession needs balance rows the transaction does not hold: it runs again holding them too. */
export class NeedsBalanceKeys extends Error {
  constructor(readonly keys: string[]) {
    super(`a supersession needs ${keys.length} more balance rows locked`);
    this.name = 'NeedsBalanceKeys';
  }
}

/** The first occurrence of each id, in batch order, and the later copies (same id again). */
export function splitRepeats(events: ReadonlyArray<SourcedEvent>): { unique: SourcedEvent[]; repeats: SourcedEvent[] } {
  const seen = new Set<string>();
  const unique: SourcedEvent[] = [];
  const repeats: SourcedEvent[] = [];
  for (const e of events) {
    if (seen.has(e.id)) repeats.push(e);
    else {
      seen.add(e.id);
      unique.push(e);
    }
  }
  return { unique, repeats };
}

/**
 * Resolves the batch's ids against the stored rows (`stored`: empty when the batch did not look
 * them up, i.e. none is stored or the write fails with a duplicate key). Repeats come after their
 * first copy in the batch (a later position), so they never win: each is a duplicate of, or a
 * conflict with, whichever variant ends up stored.
 */
export function resolveIds(unique: ReadonlyArray<SourcedEvent>, repeats: ReadonlyArray<SourcedEvent>, stored: ReadonlyMap<string, StoredVariant>): IdResolution {
  const out: IdResolution = { fresh: [], duplicates: 0, conflicts: [], superseded: [], moves: [] };
  const winner = new Map<string, Position & { content: Content }>();
  for (const e of unique) {
    const mine = { partition: e.partition, offset: e.offset, content: contentOf(e) };
    const s = stored.get(e.id);
    if (!s) {
      out.fresh.push(e);
      winner.set(e.id, mine);
      continue;
    }
    const theirs = { partition: s.partition, offset: s.offset, content: storedContent(s) };
    const earlier = comparePositions(mine, theirs) < 0;
    if (differingFields(mine.content, theirs.content).length === 0) {
      out.duplicates += 1;
      if (earlier) out.moves.push({ stored: s, to: e });
      winner.set(e.id, earlier ? mine : theirs);
    } else if (earlier) {
      out.fresh.push(e);
      out.superseded.push(s);
      out.conflicts.push({ txId: e.id, variant: theirs, stored: mine, outcome: 'superseded', arriving: null });
      winner.set(e.id, mine);
    } else {
      out.conflicts.push({ txId: e.id, variant: mine, stored: theirs, outcome: 'arrived_later', arriving: e });
      winner.set(e.id, theirs);
    }
  }
  for (const e of repeats) {
    const w = winner.get(e.id) as Position & { content: Content };
    const content = contentOf(e);
    if (differingFields(content, w.content).length === 0) out.duplicates += 1;
    else out.conflicts.push({ txId: e.id, variant: { partition: e.partition, offset: e.offset, content }, stored: w, outcome: 'arrived_later', arriving: e });
  }
  return out;
}

/** Balance keys a supersession of these rows moves. */
export function keysOfSuperseded(superseded: ReadonlyArray<StoredVariant>): string[] {
  const keys = new Set<string>();
  for (const s of superseded) {
    if (s.status !== 'applied') continue;
    keys.add(balanceKey(s.account, s.currency));
    if (s.type === 'transfer' && s.counterparty) keys.add(balanceKey(s.counterparty, s.currency));
  }
  return [...keys];
}

/** The message bytes of a batch's events, read from its packed blob only when asked (a conflict or a park). */
export interface EventOriginals {
  of(event: SourcedEvent): Promise<{ bytes: Buffer; exact: boolean }>;
}

export function originalsOf(events: ReadonlyArray<SourcedEvent>, packed: Uint8Array | undefined): EventOriginals {
  let texts: Map<string, string> | undefined;
  const at = (e: SourcedEvent) => `${e.partition}:${e.offset}`;
  return {
    async of(event) {
      if (!texts) {
        const list = packed ? await packedEventTexts(packed) : [];
        texts = new Map(list.length === events.length ? events.map((e, i) => [at(e), list[i] as string]) : []);
      }
      return originalOf(event, texts.get(at(event)));
    },
  };
}

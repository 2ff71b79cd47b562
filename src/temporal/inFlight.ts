/**
 * Runs `each` over `items` with at most `inFlight` calls pending at once (Temporal calls in bulk:
 * review starts, terminations); rejects with the first failure.
 */
export async function forEachInFlight<T>(items: ReadonlyArray<T>, inFlight: number, each: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const takeTurns = async () => {
    while (next < items.length) await each(items[next++] as T);
  };
  await Promise.all(Array.from({ length: Math.min(inFlight, items.length) }, takeTurns));
}

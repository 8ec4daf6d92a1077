/**
 * The order a child asks its queues for work in, one trip at a time: the
 * one choice of the fetch path (popQueues in src/worker/fetch.ts) that
 * an operator makes, with `--reserver`. Kept apart from fetch.ts so that
 * the command line's checks (options.ts) load no client code.
 */
/**
 * The reservers, by qless Ruby's names for the same choice:
 * - `ordered`: always as given, so a busy first queue is drained before the
 *   next is asked at all (`-q critical -q default -q low`);
 * - `round-robin` (the default, as qless-py's worker): each trip starts one
 *   queue further along, so every queue gets its turn at the first pop;
 * - `shuffled`: a fresh random order each trip.
 */
export const RESERVERS = ['ordered', 'round-robin', 'shuffled'] as const;
export type ReserverKind = (typeof RESERVERS)[number];

/** One trip's queue order; called once per trip (the round-robin remembers where it was). */
export type Reserver = () => readonly string[];

export function reserver(kind: ReserverKind, queues: readonly string[], random: () => number = Math.random): Reserver {
  const all = [...queues];
  switch (kind) {
    case 'ordered':
      return () => all;
    case 'round-robin': {
      let next = 0;
      return () => {
        const start = next;
        next = (next + 1) % all.length;
        return [...all.slice(start), ...all.slice(0, start)];
      };
    }
    case 'shuffled':
      return () => {
        // Fisher-Yates: every order equally likely.
        const order = [...all];
        for (let i = order.length - 1; i > 0; i--) {
          const j = Math.floor(random() * (i + 1));
          [order[i], order[j]] = [order[j]!, order[i]!];
        }
        return order;
      };
  }
}

/**
 * The child's wake-up call (src/worker/wake.ts): wake-ups for news end a
 * `waitForNews`, nudges do not, and neither is lost between two waits.
 */
import { describe, expect, it } from 'vitest';
import { Wake } from '../src/worker/wake.js';

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('Wake', () => {
  it('waitForNews sleeps through nudges and ends at the next wake-up for news', async () => {
    const wake = new Wake();
    const since = wake.news;
    let ended = false;
    const waiting = wake.waitForNews(since, 60_000).then(() => {
      ended = true;
    });
    wake.nudge();
    await turn();
    expect(ended).toBe(false);
    wake.wake();
    await waiting;
    expect(wake.news).toBe(since + 1);
  });

  it('a wake-up already counted (left pending by a trip) does not end waitForNews; one after it does, even before the wait', async () => {
    const wake = new Wake();
    wake.wake(); // a trip's own wake-up: pending, and counted in its mark
    const mark = wake.news;
    let ended = false;
    const waiting = wake.waitForNews(mark, 60_000).then(() => {
      ended = true;
    });
    await turn();
    expect(ended).toBe(false);
    wake.wake();
    await waiting;

    const before = wake.news;
    wake.wake(); // news that came while the loop was busy elsewhere
    await wake.waitForNews(before, 60_000); // ends at once
  });

  it('waitForNews ends after its time without news, and plain waits still end on a nudge', async () => {
    const wake = new Wake();
    await wake.waitForNews(wake.news, 5);
    const waiting = wake.wait();
    wake.nudge();
    await waiting;
  });
});

/**
 * Watching worker daemons (W5) from the outside: the window opens at the
 * first completion, so process start-up is not measured, and closes when
 * all jobs are complete. The harness polls the completed set's size; those
 * polls are its own commands and are not counted.
 */
import { RedisWindow, type WindowResult } from '../lib/redis-stats.js';
import { sleep, type BenchContext } from '../lib/types.js';

export async function watchCompletions(
  ctx: BenchContext,
  completedKey: string,
  total: number,
  died: () => boolean,
): Promise<{ jobs: number; window: WindowResult }> {
  const deadline = Date.now() + 300_000;
  const check = (): void => {
    if (died()) throw new Error('a worker daemon exited before the jobs were done');
    if (Date.now() > deadline) throw new Error(`the worker daemons did not complete ${total} jobs within 5 minutes`);
  };
  while ((await ctx.stats.zcard(completedKey)) === 0) {
    check();
    await sleep(2);
  }
  const window = await RedisWindow.open(ctx.stats);
  const first = await ctx.stats.zcard(completedKey);
  window.note('zcard');
  let count = first;
  while (count < total) {
    check();
    ctx.progress(count, total);
    await sleep(5);
    count = await ctx.stats.zcard(completedKey);
    window.note('zcard');
  }
  const result = await window.close();
  return { jobs: count - first, window: result };
}

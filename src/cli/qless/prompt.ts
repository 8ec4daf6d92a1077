/**
 * Confirmation of destructive bulk operations. Without a terminal there is
 * nobody to ask, and guessing "yes" in a script would be dangerous, so the
 * command is refused unless `--yes` was given.
 */
import { CliError, EXIT, UsageError } from './exit.js';
import type { Streams } from './context.js';

/** Ask `question` on the terminal; resolve when the answer is yes, throw otherwise. */
export async function confirm(streams: Streams, question: string, yes: boolean | undefined): Promise<void> {
  if (yes === true) return;
  if (!streams.stdin.isTTY) {
    throw new UsageError(`${question.replace(/\?$/, '')}: refused, stdin is not a terminal to confirm on; pass --yes`);
  }
  const { createInterface } = await import('node:readline/promises');
  const rl = createInterface({ input: streams.stdin, output: streams.stderr });
  try {
    const answer = await rl.question(`${question} [y/N] `);
    if (!/^y(es)?$/i.test(answer.trim())) throw new CliError('not confirmed; nothing was changed', EXIT.FAILED);
  } finally {
    rl.close();
  }
}

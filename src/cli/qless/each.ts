/**
 * The one rule for commands that take several jids (`cancel`, `retry`,
 * `track`, `untrack`): act on each jid that can be acted on, report each jid
 * on its own line (done on stdout, refused on stderr), and exit 1 when any
 * was refused. A jid given twice is acted on once. Losing Redis is not a
 * per-jid failure: it ends the command (exit 3) as everywhere else.
 */
import { isConnectionProblem } from '../../messages.js';
import type { Context } from './context.js';
import { messageOf, ReportedError } from './exit.js';

/** What acting on one jid gave: the line to print, and what `--json` shows for it besides `jid` and `ok`. */
export interface Done {
  line: string;
  value?: Record<string, unknown>;
}

/** One jid's outcome, as `--json` prints it (an array of these, in the order given). */
export type Outcome = { jid: string; ok: true } & Record<string, unknown> | { jid: string; ok: false; error: string };

/** Run `act` on each distinct jid in turn and report as the rule says. */
export async function eachJid(ctx: Context, jids: readonly string[], act: (jid: string) => Promise<Done>): Promise<void> {
  const outcomes: Outcome[] = [];
  const lines: Array<{ ok: boolean; text: string }> = [];
  for (const jid of [...new Set(jids)]) {
    try {
      const done = await act(jid);
      outcomes.push({ jid, ok: true, ...done.value });
      lines.push({ ok: true, text: done.line });
    } catch (error) {
      if (isConnectionProblem(error)) throw error;
      const message = messageOf(error);
      outcomes.push({ jid, ok: false, error: message });
      lines.push({ ok: false, text: message });
    }
  }
  if (ctx.json) ctx.out(JSON.stringify(outcomes, null, 2));
  else for (const { ok, text } of lines) if (ok) ctx.out(text);
  // Failures on stderr whatever the format, so a script reading stdout still hears of them.
  for (const { ok, text } of lines) if (!ok) ctx.note(`error: ${text}`);
  if (outcomes.some((o) => !o.ok)) throw new ReportedError();
}

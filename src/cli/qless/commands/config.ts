/** `config` (list), `config get|set|unset`. */
import type { Command } from 'commander';
import type { Client } from '../../../client.js';
import { checkOperatorValue, configText, isKnownOption, numericOption, NUMERIC_OPTIONS, QUEUE_NUMERIC_OPTIONS, suggestOption } from '../../../config.js';
import type { ConfigValue } from '../../../types.js';
import { action } from '../context.js';
import { NotFoundError } from '../exit.js';
import { table } from '../format.js';

/**
 * What the core uses for an option `config.get` reads as nil: the in-code
 * default of a known option (max-worker-age's 86400, a queue's heartbeat
 * falling back to `heartbeat`), or null for a name the core does not read.
 */
async function fallbackOf(client: Client, option: string): Promise<{ value: ConfigValue; from: string } | null> {
  const fallback = numericOption(option)?.fallback;
  if (fallback === undefined) return null;
  if (typeof fallback === 'number') return { value: fallback, from: 'default' };
  const value = await client.config.get(fallback.option);
  return value === null ? null : { value, from: `default: the ${fallback.option} option` };
}

/** The options with an in-code default only, which the core's listing leaves out. */
const FALLBACK_ONLY = Object.entries(NUMERIC_OPTIONS).flatMap(([name, spec]) => (typeof spec.fallback === 'number' ? [[name, spec.fallback] as const] : []));

export function register(program: Command): void {
  const config = program.command('config').description("the core's settings: list them (the default), get, set or unset one");

  config
    .command('list', { isDefault: true })
    .description('every option: built-in defaults overlaid with the stored values')
    .action(
      action(async (ctx) => {
        const client = await ctx.client();
        const all = await client.config.all();
        // Shown with their default when unset: the README lists them as options like any other.
        for (const [name, value] of FALLBACK_ONLY) if (!(name in all)) all[name] = value;
        const options = Object.keys(all).sort();
        const sorted = Object.fromEntries(options.map((o) => [o, all[o]!]));
        ctx.emit(sorted, () => table(['option', 'value'], options.map((o) => [o, String(all[o])])));
      }),
    );

  config
    .command('get <option>')
    .description("one option's value, stored or the default the core uses (exit 1 for a name that is neither set nor read by the core)")
    .action(
      action(async (ctx, _opts: object, option: string) => {
        const client = await ctx.client();
        const value = await client.config.get(option);
        if (value !== null) {
          ctx.emit(value, () => [String(value)]);
          return;
        }
        const fallback = await fallbackOf(client, option);
        if (fallback === null) {
          const hint = suggestOption(option);
          throw new NotFoundError(`option ${option} is not set${isKnownOption(option) ? '' : ', and the core does not read it'}${hint === undefined ? '' : `; did you mean ${hint}?`}`);
        }
        // The number alone under --json, as for a stored value; the note goes to stderr.
        ctx.emit(fallback.value, () => [String(fallback.value)]);
        ctx.note(`${option} is not set: the core uses ${String(fallback.value)} (${fallback.from})`);
      }),
    );

  config
    .command('set <option> <value>')
    .description('store a value (kept as text; read back as a number when it is one)')
    .addHelpText(
      'after',
      `\nOptions the core reads as numbers refuse anything else (exit 2): ${Object.keys(NUMERIC_OPTIONS).join(', ')}, ` +
        `and per queue ${Object.keys(QUEUE_NUMERIC_OPTIONS).map((suffix) => `<queue>${suffix}`).join(', ')};\n` +
        'heartbeat and <queue>-heartbeat must be more than 0 (a lock that expires at once lets another worker take a running job).\n' +
        'A name the core does not read is refused (exit 1, nothing stored) as a likely typo; --force stores it anyway\n' +
        '(other qless clients keep options of their own here), with a warning on stderr.',
    )
    .option('--force', 'store an option the core does not read')
    .action(
      action(async (ctx, opts: { force?: boolean }, option: string, value: string) => {
        // Checked before connecting: a refused value or name never reaches Redis.
        configText(option, value);
        checkOperatorValue(option, value);
        if (!opts.force && !isKnownOption(option)) {
          const hint = suggestOption(option);
          throw new NotFoundError(`${option} is not an option the core reads${hint === undefined ? '' : `; did you mean ${hint}?`} Nothing was stored (--force stores it anyway)`);
        }
        const client = await ctx.client();
        const { warning } = await client.config.set(option, value);
        if (warning !== undefined) ctx.note(`warning: ${warning}`);
        const now = await client.config.get(option);
        ctx.emit(warning === undefined ? { option, value: now } : { option, value: now, warning }, () => [`${option} = ${String(now)}`]);
      }),
    );

  config
    .command('unset <option>')
    .description('remove a stored value (the built-in default, if any, applies again)')
    .action(
      action(async (ctx, _opts: object, option: string) => {
        const client = await ctx.client();
        await client.config.unset(option);
        const now = (await client.config.get(option)) ?? (await fallbackOf(client, option))?.value ?? null;
        ctx.emit({ option, value: now }, () => [now === null ? `${option} unset` : `${option} unset (default ${String(now)})`]);
      }),
    );
}

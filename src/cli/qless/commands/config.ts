/** `config` (list), `config get|set|unset`. */
import type { Command } from 'commander';
import { configText, NUMERIC_OPTIONS, QUEUE_NUMERIC_OPTIONS } from '../../../config.js';
import { action } from '../context.js';
import { NotFoundError } from '../exit.js';
import { table } from '../format.js';

export function register(program: Command): void {
  const config = program.command('config').description("the core's settings: list them (the default), get, set or unset one");

  config
    .command('list', { isDefault: true })
    .description('every option: built-in defaults overlaid with the stored values')
    .action(
      action(async (ctx) => {
        const client = await ctx.client();
        const all = await client.config.all();
        const options = Object.keys(all).sort();
        const sorted = Object.fromEntries(options.map((o) => [o, all[o]!]));
        ctx.emit(sorted, () => table(['option', 'value'], options.map((o) => [o, String(all[o])])));
      }),
    );

  config
    .command('get <option>')
    .description("one option's value (exit 1 when it is neither set nor built in)")
    .action(
      action(async (ctx, _opts: object, option: string) => {
        const client = await ctx.client();
        const value = await client.config.get(option);
        if (value === null) throw new NotFoundError(`option ${option} is not set`);
        ctx.emit(value, () => [String(value)]);
      }),
    );

  config
    .command('set <option> <value>')
    .description('store a value (kept as text; read back as a number when it is one)')
    .addHelpText(
      'after',
      `\nOptions the core reads as numbers refuse anything else (exit 2): ${Object.keys(NUMERIC_OPTIONS).join(', ')}, ` +
        `and per queue ${Object.keys(QUEUE_NUMERIC_OPTIONS).map((suffix) => `<queue>${suffix}`).join(', ')}.\n` +
        'Any other name is stored too (other qless clients keep options of their own), with a warning on stderr.',
    )
    .action(
      action(async (ctx, _opts: object, option: string, value: string) => {
        // Checked before connecting: a refused value never reaches Redis.
        configText(option, value);
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
        const now = await client.config.get(option);
        ctx.emit({ option, value: now }, () => [now === null ? `${option} unset` : `${option} unset (default ${String(now)})`]);
      }),
    );
}

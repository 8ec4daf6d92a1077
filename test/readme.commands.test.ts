/**
 * Every `qless-ts` and `qless-ts-web` command line the README shows is one
 * the programs accept (issue 17: keep every command and flag it shows
 * true). Each is parsed by the real program against a closed port, so a
 * usage error (exit 2) means the README is wrong, and a line the README
 * says is refused with exit 2 must be refused.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { run } from '../src/cli/qless/program.js';
import { ROOT } from './support/cli.js';

const CLOSED = 'redis://127.0.0.1:1';

/** Shell words of a command line: single and double quotes, no expansions. */
function words(line: string): string[] {
  const out: string[] = [];
  const re = /'([^']*)'|"([^"]*)"|(\S+)/g;
  for (let m = re.exec(line); m; m = re.exec(line)) out.push(m[1] ?? m[2] ?? m[3]!);
  return out;
}

/** The README's command lines of `program`, continuation lines joined, with the comment after `#`. */
function commandLines(program: 'qless-ts' | 'qless-ts-web'): Array<{ argv: string[]; comment: string; text: string }> {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const found: Array<{ argv: string[]; comment: string; text: string }> = [];
  for (const block of readme.matchAll(/^```sh\n([\s\S]*?)^```/gm)) {
    for (const raw of block[1]!.replace(/\\\n/g, ' ').split('\n')) {
      const match = new RegExp(`^(?:\\$ )?(?:\\w+=\\S+ )*(?:npx )?${program} (.*)$`).exec(raw.trim());
      if (!match) continue;
      const [command, comment = ''] = match[1]!.split(/\s+#\s+/, 2);
      found.push({ argv: words(command!), comment, text: raw.trim() });
    }
  }
  return found;
}

/** Point the connection options at a closed port, so nothing is reached and nothing waits. */
function closed(argv: readonly string[]): string[] {
  const out = [...argv];
  for (let i = 0; i < out.length - 1; i++) {
    if (out[i] === '--redis' || out[i] === '--url') out[i + 1] = CLOSED;
    else if (out[i] === '--host') out[i + 1] = out[i + 1]!.includes('://') ? CLOSED : '127.0.0.1';
    else if (out[i] === '--port') out[i + 1] = '1';
  }
  return out;
}

describe('the README shows command lines the programs accept', () => {
  it('qless-ts: every line parses (exit 2 only where the README says so)', async () => {
    const lines = commandLines('qless-ts');
    expect(lines.length).toBeGreaterThan(30);
    const sink = { write: () => true } as unknown as NodeJS.WritableStream;
    for (const { argv, comment, text } of lines) {
      const code = await run(closed(argv), sink);
      if (/exit 2/.test(comment)) expect(code, text).toBe(2);
      else expect(code, text).not.toBe(2);
    }
  }, 60_000);

  it('qless-ts-web: every line starts the dashboard', async () => {
    const lines = commandLines('qless-ts-web');
    expect(lines.length).toBeGreaterThan(0);
    for (const { argv, text } of lines) {
      const args = closed(argv).map((word, i, all) => (all[i - 1] === '--http-port' ? '0' : word));
      const web = spawn(process.execPath, [join(ROOT, 'bin', 'qless-ts-web.js'), ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      web.stdout.on('data', (c) => (out += String(c)));
      web.stderr.on('data', (c) => (out += String(c)));
      const exit = new Promise<number | null>((resolve) => web.on('exit', (code) => resolve(code)));
      await expect.poll(() => out, { timeout: 20_000 }).toMatch(/serving http:|error/);
      expect(out, text).toMatch(/serving http:/);
      web.kill('SIGTERM');
      expect(await exit, text).toBe(0);
    }
  }, 60_000);
});

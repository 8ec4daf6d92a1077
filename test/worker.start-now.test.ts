/**
 * A job of an idle child starts without waiting when nothing is left to do
 * for it: its sandbox was emptied while its pop was on the way
 * (Sandbox.acquireNow), and its klass's module is loaded already and
 * unchanged (Loader.resolveNow). Otherwise both say so, and the job takes
 * the long way (acquire, resolve) as before. Real directories and modules.
 */
import { mkdtempSync, rmSync, utimesSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Loader } from '../src/worker/loader.js';
import { Sandbox } from '../src/worker/sandbox.js';
import { sleep } from './worker.harness.js';

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'qless-ts-start-now-'));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * Empty ahead, then take the slot at once as soon as that is done (the
 * directory counts as fresh for a few ms only: on a busy machine the
 * attempt is made again). Right after emptyAhead the slot is never taken
 * at once: the emptying is still on the gate.
 */
async function acquireAhead(sandbox: Sandbox): Promise<{ slot: number; dir: string }> {
  for (let attempt = 0; attempt < 50; attempt++) {
    sandbox.emptyAhead();
    expect(sandbox.acquireNow()).toBeUndefined();
    for (let i = 0; i < 100; i++) {
      await turn();
      const slot = sandbox.acquireNow();
      if (slot) return slot;
    }
  }
  throw new Error('the sandbox never counted as freshly emptied');
}

describe('Sandbox.acquireNow', () => {
  it('takes the slot at once only while its directory is fresh from being emptied ahead', async () => {
    const root = join(tempDir(), 'sandbox-0');
    const sandbox = new Sandbox(root, 1);
    await sandbox.prepare();
    // Not emptied ahead: the long way.
    expect(sandbox.acquireNow()).toBeUndefined();

    writeFileSync(join(root, 'left-over.txt'), 'x');
    const slot = await acquireAhead(sandbox);
    // Never handed out before it was emptied.
    expect(existsSync(join(root, 'left-over.txt'))).toBe(false);
    expect(slot).toEqual({ slot: 0, dir: root });
    // The one slot is taken.
    expect(sandbox.acquireNow()).toBeUndefined();

    // Given back, then no longer fresh: the next job lists its directory again.
    await sandbox.release(slot!);
    await sleep(10);
    expect(sandbox.acquireNow()).toBeUndefined();
    const again = await sandbox.acquire();
    expect(again).toEqual({ slot: 0, dir: root });
  });

  it('with slots: takes the next slot directory, emptied ahead with the shared one', async () => {
    const root = join(tempDir(), 'sandbox-1');
    const sandbox = new Sandbox(root, 2);
    await sandbox.prepare();
    writeFileSync(join(root, 'shared.txt'), 'x');
    const slot = await acquireAhead(sandbox);
    expect(existsSync(join(root, 'shared.txt'))).toBe(false);
    expect(slot).toEqual({ slot: 0, dir: join(root, 'slot-0') });
    expect(existsSync(join(root, 'slot-0'))).toBe(true);
    // Nothing was emptied ahead for the second slot.
    expect(sandbox.acquireNow()).toBeUndefined();
    await sandbox.release(slot!);
  });

  it('waits its turn behind an operation on the gate', async () => {
    const root = join(tempDir(), 'sandbox-2');
    const sandbox = new Sandbox(root, 2);
    await sandbox.prepare();
    const first = await acquireAhead(sandbox);
    const releasing = sandbox.release(first);
    expect(sandbox.acquireNow()).toBeUndefined();
    await releasing;
  });
});

describe('Loader.resolveNow', () => {
  it('answers at once for a loaded, unchanged module, and leaves a first import or a changed file to resolve', async () => {
    const root = tempDir();
    const file = join(root, 'now.mjs');
    writeFileSync(file, 'export class Job { static process() { return "first"; } }\n');
    const stale: string[] = [];
    const loader = new Loader({ roots: [root], reload: true, onLoaded: () => undefined, onStale: (changed) => stale.push(changed) });
    const job = { klass: 'now.Job', queue: 'q' };

    // Never imported: the long way.
    expect(loader.resolveNow(job)).toBeUndefined();
    const code = await loader.resolve(job);
    expect(code.ok).toBe(true);
    await sleep(5);

    const now = loader.resolveNow(job);
    expect(now?.ok).toBe(true);
    if (now?.ok && code.ok) {
      expect(now.method).toBe(code.method);
      expect(now.file).toBe(file);
      expect(now.methodName).toBe('process');
    }
    // A klass it has not seen: the long way (which reports it missing).
    expect(loader.resolveNow({ klass: 'now.Other', queue: 'q' })).toBeUndefined();

    // Changed on disk (--reload): resolve imports it again.
    writeFileSync(file, 'export class Job { static process() { return "second"; } }\n');
    const later = new Date(Date.now() + 5000);
    utimesSync(file, later, later);
    await sleep(5);
    expect(loader.resolveNow(job)).toBeUndefined();
    const reloaded = await loader.resolve(job);
    expect(reloaded.ok && (reloaded.method as () => string)()).toBe('second');
    expect(stale).toEqual([file]);
  });

  it('says what is missing the same way as resolve', async () => {
    const root = tempDir();
    writeFileSync(join(root, 'partial.mjs'), 'export class Job { static other() {} }\nexport const Value = 3;\n');
    const loader = new Loader({ roots: [root], reload: false, onLoaded: () => undefined, onStale: () => undefined });
    const missing = { klass: 'partial.Job', queue: 'q' };
    const first = await loader.resolve(missing);
    await sleep(5);
    expect(loader.resolveNow(missing)).toEqual(first);
    expect(first).toMatchObject({ ok: false, group: 'q-method-missing' });
    const notExported = { klass: 'partial.Nope', queue: 'q' };
    const nope = await loader.resolve(notExported);
    await sleep(5);
    expect(nope).toMatchObject({ ok: false, group: 'q-import-error' });
    expect(loader.resolveNow(notExported)).toEqual(nope);
  });
});

/**
 * Knowing a sandbox directory is still empty without listing it
 * (src/worker/known-empty.ts): trusted only while its inode and times are
 * those it had when found empty, and only once those times are settled.
 */
import { mkdirSync, mkdtempSync, rmSync, rmdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { KnownEmpty } from '../src/worker/known-empty.js';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const made: string[] = [];
afterEach(() => {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A directory whose last change is settled (older than the 50 ms known-empty.ts waits for). */
async function settledDir(): Promise<string> {
  const root = mkdtempSync(join(tmpdir(), 'qless-ts-known-empty-'));
  made.push(root);
  const dir = join(root, 'sandbox');
  mkdirSync(dir);
  await sleep(80);
  return dir;
}

describe('KnownEmpty', () => {
  it('knows nothing of a directory it was not told about, nor of one changed just before it was', async () => {
    const known = new KnownEmpty();
    const dir = await settledDir();
    expect(known.unchanged(dir)).toBe(false);
    writeFileSync(join(dir, 'x'), '');
    rmSync(join(dir, 'x'));
    known.emptied(dir); // changed a moment ago: an entry made in the same clock tick could go unseen
    expect(known.unchanged(dir)).toBe(false);
  });

  it('trusts a settled empty directory until an entry is added, and until the directory is replaced', async () => {
    const known = new KnownEmpty();
    const dir = await settledDir();
    known.emptied(dir);
    expect(known.unchanged(dir)).toBe(true);
    expect(known.unchanged(dir)).toBe(true);
    writeFileSync(join(dir, 'leftover.txt'), 'old');
    expect(known.unchanged(dir)).toBe(false);
    // Not trusted again until reported empty again.
    rmSync(join(dir, 'leftover.txt'));
    expect(known.unchanged(dir)).toBe(false);

    const other = await settledDir();
    known.emptied(other);
    rmdirSync(other);
    mkdirSync(other);
    expect(known.unchanged(other)).toBe(false);
    rmdirSync(other);
    expect(known.unchanged(other)).toBe(false);
  });
});

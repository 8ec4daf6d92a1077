/**
 * The README's dashboard pictures are made here, by the test suite, so that
 * they always show the pages as they are (issue 17). Each run rewrites
 * docs/screenshots/*.png from a freshly seeded private Redis.
 */
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { OUT, SHOTS, takeScreenshots } from './web-screenshots.js';

/** Width and height from a PNG's IHDR chunk. */
function pngSize(file: string): { width: number; height: number } {
  const bytes = readFileSync(file);
  expect(bytes.subarray(1, 4).toString('ascii')).toBe('PNG');
  return { width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) };
}

describe('dashboard screenshots', () => {
  it('regenerates every picture the README shows', async () => {
    const started = Date.now();
    await takeScreenshots();
    const readme = readFileSync(join(OUT, '..', '..', 'README.md'), 'utf8');
    for (const shot of SHOTS) {
      const file = join(OUT, `${shot}.png`);
      expect(statSync(file).mtimeMs, shot).toBeGreaterThanOrEqual(started - 1000);
      const { width, height } = pngSize(file);
      expect(width, shot).toBe(shot === 'phone' ? 390 : 1280);
      expect(height, shot).toBeGreaterThan(300);
      expect(readme, shot).toContain(`(docs/screenshots/${shot}.png)`);
    }
  }, 120_000);
});

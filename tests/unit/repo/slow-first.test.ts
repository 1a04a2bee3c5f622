import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SLOW_FIRST } from '../../slow-first-sequencer.js';

describe('the suite starts its longest files first', () => {
  it('each file the sequencer names exists (a renamed file would quietly lose its place)', () => {
    const root = resolve(import.meta.dirname, '../../..');
    expect(SLOW_FIRST.filter((file) => !existsSync(resolve(root, file)))).toEqual([]);
    expect(new Set(SLOW_FIRST).size).toBe(SLOW_FIRST.length);
  });
});

import { describe, expect, it } from 'vitest';
import { conflictBackOffMs } from './write-conflicts.ts';

describe('conflictBackOffMs', () => {
  it('is a random share of a ceiling that doubles with each attempt', () => {
    expect(conflictBackOffMs(1, 0)).toBe(0);
    expect(conflictBackOffMs(1, 0.5)).toBe(10);
    expect(conflictBackOffMs(2, 0.5)).toBe(20);
    expect(conflictBackOffMs(4, 0.999)).toBe(159);
  });

  it('never waits more than 400 ms, however many attempts', () => {
    expect(conflictBackOffMs(6, 0.999)).toBe(399);
    expect(conflictBackOffMs(30, 0.999)).toBe(399);
  });
});

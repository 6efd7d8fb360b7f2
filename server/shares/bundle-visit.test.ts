import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { readVisit, signVisit, type Visit } from './bundle-visit.ts';

const key = randomBytes(32);
const id = 'A'.repeat(22);
const visit: Visit = { shareId: id, expiresAt: 2_000_000_000, unlocked: true, counted: false };

describe('bundle visits', () => {
  it('reads back what was signed', () => {
    expect(readVisit(key, signVisit(key, visit), id, 0)).toEqual(visit);
  });

  it('refuses a changed flag, another key, another link and an expired visit', () => {
    const value = signVisit(key, visit);
    expect(readVisit(key, value.replace('.u-.', '.uc.'), id, 0)).toBeUndefined();
    expect(readVisit(randomBytes(32), value, id, 0)).toBeUndefined();
    expect(readVisit(key, value, 'B'.repeat(22), 0)).toBeUndefined();
    expect(readVisit(key, value, id, visit.expiresAt * 1000)).toBeUndefined();
    expect(readVisit(key, undefined, id, 0)).toBeUndefined();
    expect(readVisit(key, 'garbage', id, 0)).toBeUndefined();
  });
});

import { describe, expect, it } from 'vitest';
import { LOCAL_PERSON, spaceFor } from './person.ts';

describe('spaceFor', () => {
  it('keeps the local person at the top of the bucket, as before accounts', () => {
    expect(spaceFor(LOCAL_PERSON.id)).toBe('');
    expect(LOCAL_PERSON.space).toBe('');
  });

  it('gives a person made by the server a prefix of their own', () => {
    expect(spaceFor('0123456789abcdef')).toBe('people/0123456789abcdef/');
  });

  it.each(['', '../x', 'ABCDEF0123456789', 'abc', 'a/b0123456789abcdef'])('refuses %j', (id) => {
    expect(() => spaceFor(id)).toThrow();
  });
});

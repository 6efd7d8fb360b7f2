import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { isLive, looksLikeSession, newSessionId, readSession, signSession } from './session-token.ts';

const key = randomBytes(32);
const claims = { id: newSessionId(), expiresAt: 2_000_000_000, idleUntil: 1_900_000_000 };

describe('session cookies', () => {
  it('read back what was signed', () => {
    const value = signSession(key, claims);
    expect(looksLikeSession(value)).toBe(true);
    expect(readSession(key, value)).toEqual(claims);
  });

  it('are refused with any part edited, or under another key', () => {
    const value = signSession(key, claims);
    const [v, id, expires, idle, mac] = value.split('.');
    for (const edited of [
      [v, id, Number(expires) + 3600, idle, mac],
      [v, id, expires, Number(idle) + 3600, mac],
      [v, newSessionId(), expires, idle, mac],
      [v, id, expires, idle, mac!.replace(/^./, (c) => (c === '0' ? '1' : '0'))],
    ]) {
      expect(readSession(key, edited.join('.'))).toBeUndefined();
    }
    expect(readSession(randomBytes(32), value)).toBeUndefined();
  });

  it('have one shape: anything else is not even looked at', () => {
    for (const value of [undefined, '', 'v1.123.' + 'a'.repeat(64), `${signSession(key, claims)}x`, 'script-token-0123456789abcdef']) {
      expect(looksLikeSession(value)).toBe(false);
    }
    // looksLikeSession's `value !== undefined` is an equivalent mutant: the pattern refuses "undefined" anyway.
  });

  it('that are not of the shape read as no session, not as an exception, even unchecked', () => {
    for (const value of ['', 'garbage', `${signSession(key, claims)}x`]) expect(readSession(key, value)).toBeUndefined();
  });

  it('are live until the first of their idle and absolute ends', () => {
    expect(isLive(claims, 1_899_999_999_000)).toBe(true);
    expect(isLive(claims, 1_900_000_000_000)).toBe(false);
    expect(isLive({ ...claims, idleUntil: 2_100_000_000 }, 2_000_000_000_000)).toBe(false);
  });
});

describe('session cookies with a person (OIDC)', () => {
  const person = { id: 'ab'.repeat(16), email: 'ada@example.com', name: 'Ada "Countess" Lovelace. ✓' };
  const withPerson = { ...claims, person };

  it('read back the person, with any character in the name', () => {
    const value = signSession(key, withPerson);
    expect(value.startsWith('v3.')).toBe(true);
    expect(looksLikeSession(value)).toBe(true);
    expect(readSession(key, value)).toEqual(withPerson);
    expect(readSession(key, signSession(key, { ...claims, person: { id: person.id } }))).toEqual({ ...claims, person: { id: person.id } });
  });

  it('are refused with the person swapped or the version changed', () => {
    const value = signSession(key, withPerson);
    const parts = value.split('.');
    const other = Buffer.from(JSON.stringify({ ...person, id: 'cd'.repeat(16) })).toString('base64url');
    expect(readSession(key, [parts[0], parts[1], parts[2], parts[3], other, parts[5]].join('.'))).toBeUndefined();
    expect(readSession(key, ['v2', parts[1], parts[2], parts[3], parts[5]].join('.'))).toBeUndefined();
    expect(readSession(randomBytes(32), value)).toBeUndefined();
  });
});

import type { Request } from 'express';
import { describe, expect, it } from 'vitest';
import { Access, SESSION_COOKIE } from './access.ts';

const SECRET = 's'.repeat(32);
const access = (password: string, sessionSecret?: string) => new Access({ password, apiTokens: [], sessionSecret, sessionMaxAgeSeconds: 3600 });
const withCookie = (value: string) => ({ headers: { cookie: `${SESSION_COOKIE}=${value}` } }) as unknown as Request;

describe('sessions', () => {
  it('are accepted by every instance with the same password and SESSION_SECRET', () => {
    const session = access('first password', SECRET).issueSession().value;
    expect(access('first password', SECRET).check(withCookie(session)).signedIn).toBe(true);
    const derived = access('first password').issueSession().value;
    expect(access('first password').check(withCookie(derived)).signedIn).toBe(true);
  });

  it('end when the password changes, with or without SESSION_SECRET', () => {
    const session = access('first password', SECRET).issueSession().value;
    expect(access('second password', SECRET).check(withCookie(session)).signedIn).toBe(false);
    const derived = access('first password').issueSession().value;
    expect(access('second password').check(withCookie(derived)).signedIn).toBe(false);
  });

  it('end when SESSION_SECRET changes, and when they expire', () => {
    const session = access('first password', SECRET).issueSession().value;
    expect(access('first password', 't'.repeat(32)).check(withCookie(session)).signedIn).toBe(false);
    const old = access('first password', SECRET).issueSession(Date.now() - 3601_000).value;
    expect(access('first password', SECRET).check(withCookie(old)).signedIn).toBe(false);
  });
});

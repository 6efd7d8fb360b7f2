import { describe, expect, it } from 'vitest';
import { isAdmin } from './admins.ts';

const ISSUER = 'https://id.example.com/realms/staff';
const admins = ['Boss@Example.com', `${ISSUER}|user-42`];

describe('isAdmin', () => {
  it('accepts a verified e-mail in any case, and issuer|sub exactly', () => {
    expect(isAdmin({ email: 'boss@example.COM', emailVerified: true }, admins)).toBe(true);
    expect(isAdmin({ issuer: ISSUER, subject: 'user-42' }, admins)).toBe(true);
  });

  it('refuses an unverified e-mail, another issuer with the same sub, a sub alone, and nothing', () => {
    expect(isAdmin({ email: 'boss@example.com' }, admins)).toBe(false);
    expect(isAdmin({ email: 'boss@example.com', emailVerified: false }, admins)).toBe(false);
    expect(isAdmin({ issuer: 'https://evil.example.com', subject: 'user-42' }, admins)).toBe(false);
    expect(isAdmin({ subject: 'user-42' }, admins)).toBe(false);
    expect(isAdmin({ issuer: ISSUER, subject: 'user-4' }, admins)).toBe(false);
    expect(isAdmin({ email: 'boss@example.com', emailVerified: true }, [])).toBe(false);
  });

  it('does not let an e-mail that looks like issuer|sub match an identity entry', () => {
    expect(isAdmin({ email: `${ISSUER}|user-42`, emailVerified: true }, admins)).toBe(false);
  });
});

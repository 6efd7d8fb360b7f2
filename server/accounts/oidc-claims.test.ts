import { describe, expect, it } from 'vitest';
import { withEmailFromOneSource } from './oidc-sign-in.ts';

describe('withEmailFromOneSource', () => {
  it("never pairs one source's e-mail with the other's email_verified", () => {
    const idToken = { iss: 'https://id', sub: 'a', email: 'mallory@example.test' };
    const userinfo = { email: 'alice@example.test', email_verified: true, name: 'Alice' };
    expect(withEmailFromOneSource(userinfo, idToken)).toMatchObject({
      email: 'mallory@example.test',
      email_verified: undefined,
      name: 'Alice',
    });
  });

  it('takes both from userinfo when the ID token has no e-mail, and the ID token wins for everything else', () => {
    const merged = withEmailFromOneSource(
      { email: 'alice@example.test', email_verified: true, sub: 'other' },
      { iss: 'https://id', sub: 'a' },
    );
    expect(merged).toMatchObject({ email: 'alice@example.test', email_verified: true, sub: 'a' });
  });
});

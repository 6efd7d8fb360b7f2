import { describe, expect, it } from 'vitest';
import { hashPassword, verifyPassword } from './passwords.ts';

describe('share-link passwords', () => {
  it('hashes with scrypt and a random salt, and verifies only the same password', async () => {
    const first = await hashPassword('correct horse battery');
    const second = await hashPassword('correct horse battery');
    expect(first).toMatchObject({ algorithm: 'scrypt', N: 32768, r: 8, p: 1 });
    expect(Buffer.from(first.salt, 'base64')).toHaveLength(16);
    expect(Buffer.from(first.hash, 'base64')).toHaveLength(32);
    expect(first.salt).not.toBe(second.salt);
    expect(first.hash).not.toBe(second.hash);
    expect(JSON.stringify(first)).not.toContain('horse');

    expect(await verifyPassword('correct horse battery', first)).toBe(true);
    expect(await verifyPassword('correct horse battery', second)).toBe(true);
    for (const wrong of ['Correct horse battery', 'correct horse batter', '', 'x'.repeat(5000)]) {
      expect(await verifyPassword(wrong, first)).toBe(false);
    }
  });

  it('treats the composed and decomposed forms of a character as the same password', async () => {
    const stored = await hashPassword('Mot de passe: été');
    expect(await verifyPassword('Mot de passe: e\u0301te\u0301', stored)).toBe(true);
  });
});

import { scryptSync } from 'node:crypto';
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

  it('refuses a password over 1024 bytes uncompared, even the right one; 1024 bytes is still compared', async () => {
    // Hashing is cheap to ask for and costly to do: a huge password would cost scrypt time per try.
    const longest = 'é'.repeat(512); // 1024 bytes of UTF-8
    expect(await verifyPassword(longest, await hashPassword(longest))).toBe(true);
    const over = `${longest}x`;
    expect(await verifyPassword(over, await hashPassword(over))).toBe(false);
  });

  it('answers false, not an exception, when the stored hash has the wrong length (a damaged share record)', async () => {
    const stored = await hashPassword('correct horse battery');
    const short = { ...stored, hash: Buffer.from(stored.hash, 'base64').subarray(0, 16).toString('base64') };
    expect(await verifyPassword('correct horse battery', short)).toBe(false);
  });

  it('verifies a hash made with other scrypt parameters by the ones stored with it (older or stronger records keep working)', async () => {
    const salt = Buffer.from('0123456789abcdef');
    for (const N of [2 ** 14, 2 ** 15, 2 ** 16]) {
      const hash = scryptSync('correct horse battery', salt, 32, { N, r: 8, p: 1, maxmem: 80 * 1024 * 1024 }).toString('base64');
      const stored = { algorithm: 'scrypt' as const, N, r: 8, p: 1, salt: salt.toString('base64'), hash };
      expect(await verifyPassword('correct horse battery', stored)).toBe(true);
      expect(await verifyPassword('correct horse batter', stored)).toBe(false);
    }
    // maxmem is twice what scrypt needs (128·N·r) plus 1 MiB: mutants of the 1 MiB headroom are equivalent.
  });
});

import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { AppError } from '../errors/app-error.ts';
import { signUploadToken, UPLOAD_TOKEN_MAX_AGE_SECONDS, verifyUploadToken } from './upload-token.ts';

const secret = randomBytes(32);
const grant = { key: 'uploads/0000000000a-0123456789abcdef/text/plain/Grüße.txt', uploadId: 'abc/+=~', size: 9 * 2 ** 20, partSize: 8 * 2 ** 20 };
const NOW = Date.UTC(2026, 10, 23);

const codeOf = (run: () => unknown) => {
  try {
    run();
  } catch (err) {
    return err instanceof AppError ? [err.status, err.code] : err;
  }
  return 'accepted';
};

describe('upload tokens', () => {
  it('carry the grant back, versioned and base64url', () => {
    const token = signUploadToken(secret, grant, NOW);
    expect(token).toMatch(/^v1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/);
    expect(verifyUploadToken(secret, token, NOW)).toEqual(grant);
  });

  it('are refused when changed anywhere, made with another secret, or expired (403)', () => {
    const token = signUploadToken(secret, grant, NOW);
    for (let i = 3; i < token.length; i++) {
      const changed = token.slice(0, i) + (token[i] === 'A' ? 'B' : 'A') + token.slice(i + 1);
      if (token[i] === '.') continue;
      expect(codeOf(() => verifyUploadToken(secret, changed, NOW)), `character ${i}`).toEqual([403, 'forbidden']);
    }
    expect(codeOf(() => verifyUploadToken(randomBytes(32), token, NOW))).toEqual([403, 'forbidden']);
    const last = NOW + UPLOAD_TOKEN_MAX_AGE_SECONDS * 1000;
    expect(codeOf(() => verifyUploadToken(secret, token, last - 1000))).toBe('accepted');
    expect(codeOf(() => verifyUploadToken(secret, token, last))).toEqual([403, 'forbidden']);
  });

  it('are refused when not tokens at all (400)', () => {
    const token = signUploadToken(secret, grant, NOW);
    for (const text of ['', 'v1', 'v1..', `v2${token.slice(2)}`, `${token}=`, ` ${token}`, token.replaceAll('.', '_')]) {
      expect(codeOf(() => verifyUploadToken(secret, text, NOW)), text).toEqual([400, 'invalid_request']);
    }
  });
});

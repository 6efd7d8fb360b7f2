import { createHmac, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { AppError } from '../errors/app-error.ts';
import { signUploadToken, UPLOAD_TOKEN_MAX_AGE_SECONDS, verifyUploadToken } from './upload-token.ts';

const secret = randomBytes(32);
const grant = {
  key: 'uploads/0000000000a-0123456789abcdef/text/plain/Grüße.txt',
  uploadId: 'abc/+=~',
  size: 9 * 2 ** 20,
  partSize: 8 * 2 ** 20,
};
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
      expect(
        codeOf(() => verifyUploadToken(secret, changed, NOW)),
        `character ${i}`,
      ).toEqual([403, 'forbidden']);
    }
    expect(codeOf(() => verifyUploadToken(randomBytes(32), token, NOW))).toEqual([403, 'forbidden']);
    const last = NOW + UPLOAD_TOKEN_MAX_AGE_SECONDS * 1000;
    expect(codeOf(() => verifyUploadToken(secret, token, last - 1000))).toBe('accepted');
    expect(codeOf(() => verifyUploadToken(secret, token, last))).toEqual([403, 'forbidden']);
  });

  it('are refused when not tokens at all (400)', () => {
    const token = signUploadToken(secret, grant, NOW);
    for (const text of ['', 'v1', 'v1..', `v2${token.slice(2)}`, `${token}=`, ` ${token}`, token.replaceAll('.', '_')]) {
      expect(
        codeOf(() => verifyUploadToken(secret, text, NOW)),
        text,
      ).toEqual([400, 'invalid_request']);
    }
  });

  it('refuse a signed token whose payload is not a grant (403, not a crash)', () => {
    // What another version of the app, or a bug, could sign with the same secret.
    const signed = (body: unknown) => {
      const payload = Buffer.from(JSON.stringify(body)).toString('base64url');
      return `v1.${payload}.${createHmac('sha256', secret).update(`v1.${payload}`).digest('base64url')}`;
    };
    const good = { k: grant.key, u: grant.uploadId, s: 1, p: 1, e: NOW / 1000 + 60 };
    expect(codeOf(() => verifyUploadToken(secret, signed(good), NOW))).toBe('accepted');
    for (const body of [{ ...good, s: 0 }, { ...good, extra: 1 }, { ...good, e: 'later' }, 'text', null]) {
      expect(
        codeOf(() => verifyUploadToken(secret, signed(body), NOW)),
        JSON.stringify(body),
      ).toEqual([403, 'forbidden']);
    }
    const notJson = Buffer.from('{').toString('base64url');
    const token = `v1.${notJson}.${createHmac('sha256', secret).update(`v1.${notJson}`).digest('base64url')}`;
    expect(codeOf(() => verifyUploadToken(secret, token, NOW))).toEqual([403, 'forbidden']);
  });

  it('say why they are refused', () => {
    const token = signUploadToken(secret, grant, NOW);
    expect(() => verifyUploadToken(secret, 'x', NOW)).toThrow(
      'uploadToken is not an upload token: send the one the upload was created with.',
    );
    expect(() => verifyUploadToken(randomBytes(32), token, NOW)).toThrow('That upload token was not made here, or was changed.');
    const payload = Buffer.from('{').toString('base64url');
    const notJson = `v1.${payload}.${createHmac('sha256', secret).update(`v1.${payload}`).digest('base64url')}`;
    expect(() => verifyUploadToken(secret, notJson, NOW)).toThrow('That upload token was not made here, or was changed.');
    expect(() => verifyUploadToken(secret, token, NOW + UPLOAD_TOKEN_MAX_AGE_SECONDS * 1000)).toThrow(
      'That upload has expired: start it again.',
    );
  });
  // Equivalent mutants: the signature's length check (the pattern already holds it to 43 characters, as long as
  // the expected one) and the 'utf8' of Buffer.from (an empty encoding name falls back to UTF-8).
});

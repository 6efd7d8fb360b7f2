import { createHmac, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { AppError } from '../errors/app-error.ts';

/**
 * What the server allowed when it created a multipart upload, signed so that later calls (signing
 * part URLs, completing) take it from here rather than from the client: a client that could name
 * its own size or part size could have parts signed for far more than MAX_UPLOAD_BYTES.
 *
 *   v1.<base64url(JSON payload)>.<base64url(HMAC-SHA256(key, "v1." + payload))>
 *
 * The key is the install secret's `multipart-upload` key, so every instance on the bucket verifies
 * every other's tokens. Not secret (the browser keeps it to resume); it only needs to be unforgeable.
 */
export interface UploadGrant {
  key: string;
  uploadId: string;
  /** The file's size as declared at creation, at most MAX_UPLOAD_BYTES then. */
  size: number;
  partSize: number;
}

const VERSION = 'v1';
/**
 * Resuming may come days later (a laptop closed over a weekend); storage drops the upload id itself
 * when it is aborted or cleaned up, whatever the token says.
 */
export const UPLOAD_TOKEN_MAX_AGE_SECONDS = 30 * 24 * 3600;
export const UPLOAD_TOKEN_PURPOSE = 'multipart-upload';

const TOKEN = /^v1\.([A-Za-z0-9_-]{1,6000})\.([A-Za-z0-9_-]{43})$/;
const Payload = z.strictObject({
  k: z.string().min(1),
  u: z.string().min(1),
  s: z.number().int().min(1),
  p: z.number().int().min(1),
  /** Expiry, in seconds since the epoch. */
  e: z.number().int(),
});

const mac = (secret: Buffer, payload: string) => createHmac('sha256', secret).update(`${VERSION}.${payload}`).digest();

export function signUploadToken(secret: Buffer, grant: UploadGrant, now = Date.now()): string {
  const body: z.infer<typeof Payload> = {
    k: grant.key,
    u: grant.uploadId,
    s: grant.size,
    p: grant.partSize,
    e: Math.floor(now / 1000) + UPLOAD_TOKEN_MAX_AGE_SECONDS,
  };
  const payload = Buffer.from(JSON.stringify(body), 'utf8').toString('base64url');
  return `${VERSION}.${payload}.${mac(secret, payload).toString('base64url')}`;
}

/** The grant a token carries; 400 when it is not a token, 403 when this install did not make it (or it was changed), or it expired. */
export function verifyUploadToken(secret: Buffer, token: string, now = Date.now()): UploadGrant {
  const match = TOKEN.exec(token);
  if (!match) throw new AppError('invalid_request', 'uploadToken is not an upload token: send the one the upload was created with.');
  const [, payload, signature] = match as unknown as [string, string, string];
  // Compared as text: base64url's last character has spare bits, so two spellings decode alike.
  const given = Buffer.from(signature);
  const expected = Buffer.from(mac(secret, payload).toString('base64url'));
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw new AppError('forbidden', 'That upload token was not made here, or was changed.');
  }
  let body: z.infer<typeof Payload>;
  try {
    body = Payload.parse(JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')));
  } catch {
    throw new AppError('forbidden', 'That upload token was not made here, or was changed.');
  }
  if (now / 1000 >= body.e) throw new AppError('forbidden', 'That upload has expired: start it again.');
  return { key: body.k, uploadId: body.u, size: body.s, partSize: body.p };
}

import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** What a session cookie says, in seconds since the epoch. */
export interface SessionClaims {
  /** Random, names the session's revocation record. Kept when the cookie is re-issued. */
  id: string;
  /** The absolute end (SESSION_MAX_AGE_SECONDS after sign-in). */
  expiresAt: number;
  /** The idle end: pushed forward each time the cookie is re-issued on use, never past `expiresAt`. */
  idleUntil: number;
}

const FORMAT = /^v2\.([A-Za-z0-9_-]{22})\.(\d{1,12})\.(\d{1,12})\.([0-9a-f]{64})$/;

export const newSessionId = () => randomBytes(16).toString('base64url');

const payload = (c: SessionClaims) => `v2.${c.id}.${c.expiresAt}.${c.idleUntil}`;
const mac = (key: Buffer, text: string) => createHmac('sha256', key).update(text).digest();

export function signSession(key: Buffer, claims: SessionClaims): string {
  const text = payload(claims);
  return `${text}.${mac(key, text).toString('hex')}`;
}

/** Whether the value has a session cookie's shape: checked before the key is fetched, so garbage costs nothing. */
export function looksLikeSession(value: string | undefined): value is string {
  return value !== undefined && FORMAT.test(value);
}

/** The claims of a cookie signed with `key`; undefined when its MAC is wrong. Expiry is the caller's to check. */
export function readSession(key: Buffer, value: string): SessionClaims | undefined {
  const match = FORMAT.exec(value);
  if (!match) return undefined;
  const claims = { id: match[1]!, expiresAt: Number(match[2]), idleUntil: Number(match[3]) };
  return timingSafeEqual(Buffer.from(match[4]!, 'hex'), mac(key, payload(claims))) ? claims : undefined;
}

/** Live at `nowMs`: before both its absolute and its idle end. */
export const isLive = (claims: SessionClaims, nowMs: number) => Math.min(claims.expiresAt, claims.idleUntil) * 1000 > nowMs;

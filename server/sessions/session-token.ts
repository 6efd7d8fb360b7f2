import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** Who an OIDC session is for (server/people/person.ts makes the Person from it). */
export interface SessionPerson {
  /** Hex digest of issuer + sub. */
  id: string;
  /** Only when the provider said it is verified. */
  email?: string;
  name?: string;
}

/** What a session cookie says, in seconds since the epoch. */
export interface SessionClaims {
  /** Random, names the session's revocation record. Kept when the cookie is re-issued. */
  id: string;
  /** The absolute end (SESSION_MAX_AGE_SECONDS after sign-in). */
  expiresAt: number;
  /** The idle end: pushed forward each time the cookie is re-issued on use, never past `expiresAt`. */
  idleUntil: number;
  /** The person signed in with OIDC; absent for the password's one local person. */
  person?: SessionPerson;
}

const FORMAT = /^v2\.([A-Za-z0-9_-]{22})\.(\d{1,12})\.(\d{1,12})\.([0-9a-f]{64})$/;
/** With a person: their claims as base64url JSON (a name or e-mail may hold any character). */
const PERSON_FORMAT = /^v3\.([A-Za-z0-9_-]{22})\.(\d{1,12})\.(\d{1,12})\.([A-Za-z0-9_-]{1,2048})\.([0-9a-f]{64})$/;

export const newSessionId = () => randomBytes(16).toString('base64url');

const encodePerson = (p: SessionPerson) => Buffer.from(JSON.stringify({ id: p.id, email: p.email, name: p.name })).toString('base64url');
const payload = (c: SessionClaims) =>
  c.person ? `v3.${c.id}.${c.expiresAt}.${c.idleUntil}.${encodePerson(c.person)}` : `v2.${c.id}.${c.expiresAt}.${c.idleUntil}`;
const mac = (key: Buffer, text: string) => createHmac('sha256', key).update(text).digest();

export function signSession(key: Buffer, claims: SessionClaims): string {
  const text = payload(claims);
  return `${text}.${mac(key, text).toString('hex')}`;
}

/** Whether the value has a session cookie's shape: checked before the key is fetched, so garbage costs nothing. */
export function looksLikeSession(value: string | undefined): value is string {
  return value !== undefined && (FORMAT.test(value) || PERSON_FORMAT.test(value));
}

/** The claims of a cookie signed with `key`; undefined when its MAC is wrong. Expiry is the caller's to check. */
export function readSession(key: Buffer, value: string): SessionClaims | undefined {
  const plain = FORMAT.exec(value);
  const withPerson = plain ? undefined : PERSON_FORMAT.exec(value);
  const match = plain ?? withPerson;
  if (!match) return undefined;
  const text = value.slice(0, value.lastIndexOf('.'));
  if (!timingSafeEqual(Buffer.from(match.at(-1)!, 'hex'), mac(key, text))) return undefined;
  const claims: SessionClaims = { id: match[1]!, expiresAt: Number(match[2]), idleUntil: Number(match[3]) };
  if (withPerson) claims.person = JSON.parse(Buffer.from(withPerson[4]!, 'base64url').toString('utf8')) as SessionPerson;
  return claims;
}

/** Live at `nowMs`: before both its absolute and its idle end. */
export const isLive = (claims: SessionClaims, nowMs: number) => Math.min(claims.expiresAt, claims.idleUntil) * 1000 > nowMs;

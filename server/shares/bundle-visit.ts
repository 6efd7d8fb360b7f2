import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * A visit of a bundle's page, kept in a cookie the server signs: which link, until when, whether
 * its password was given and whether the visit was counted as the link's one download.
 *
 * "One download" of a bundle is a visit: the first file (or Download all) of a visit counts once
 * against the link's limit; every other file of the same visit, for VISIT_SECONDS, is free. A
 * recipient who drops the cookie starts a new visit, which counts again: the limit never allows more.
 */
export const VISIT_SECONDS = 3600;
export const VISIT_COOKIE = 'postbox_visit';

export interface Visit {
  shareId: string;
  /** Seconds since the epoch. */
  expiresAt: number;
  unlocked: boolean;
  counted: boolean;
}

const mac = (key: Buffer, payload: string) => createHmac('sha256', key).update(payload).digest('base64url');

export function signVisit(key: Buffer, visit: Visit): string {
  const payload = `${visit.shareId}.${visit.expiresAt}.${visit.unlocked ? 'u' : '-'}${visit.counted ? 'c' : '-'}`;
  return `${payload}.${mac(key, payload)}`;
}

/** The visit a cookie value proves for this link, or undefined (absent, forged, another link's, expired). */
export function readVisit(key: Buffer, value: string | undefined, shareId: string, nowMs: number): Visit | undefined {
  const match = /^([A-Za-z0-9_-]{22})\.(\d{1,12})\.([u-])([c-])\.([A-Za-z0-9_-]{43})$/.exec(value ?? '');
  if (!match) return undefined;
  const [, id, expires, unlocked, counted, signature] = match as unknown as [string, string, string, string, string, string];
  const expected = Buffer.from(mac(key, `${id}.${expires}.${unlocked}${counted}`));
  if (!timingSafeEqual(expected, Buffer.from(signature))) return undefined;
  if (id !== shareId || Number(expires) * 1000 <= nowMs) return undefined;
  return { shareId: id, expiresAt: Number(expires), unlocked: unlocked === 'u', counted: counted === 'c' };
}

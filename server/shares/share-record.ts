import { createHash, randomBytes } from 'node:crypto';
import { z } from 'zod';

/**
 * Share links live in the bucket itself, under a prefix uploads can never write to: every upload
 * key is made by the server under `uploads/` (see signing/object-keys.ts) and `parseUploadKey`
 * refuses anything else, so neither a POST policy nor a link/delete call can reach `shares/`.
 *
 *   shares/links/<id>.json                          the record: one GET opens a link
 *   shares/by-file/<sha256(file key)>/<id>          an empty marker per live link: one LIST finds a file's links
 *   shares/revoked-by-file/<sha256(file key)>/<id>  an empty marker per revoked link
 *
 * The record is the truth; a marker only says where to look. Markers are written before their
 * record and removed after it, so a listing never misses a working link (a marker without a record
 * is skipped). A revoked link keeps a small tombstone record (no name, note or password) so its
 * page can say "revoked" (410) instead of "no such link"; its live marker gives way to a revoked
 * one, so that the tombstone goes when the file is deleted, with the file's other links.
 */
export const SHARES_PREFIX = 'shares/';
const LINKS_PREFIX = `${SHARES_PREFIX}links/`;
const BY_FILE_PREFIX = `${SHARES_PREFIX}by-file/`;
const REVOKED_BY_FILE_PREFIX = `${SHARES_PREFIX}revoked-by-file/`;

/** 16 random bytes (128 bits) as 22 base64url characters. */
const ID = /^[A-Za-z0-9_-]{22}$/;

export function newShareId(): string {
  return randomBytes(16).toString('base64url');
}

export function isShareId(value: string): boolean {
  return ID.test(value);
}

export function recordKey(id: string): string {
  return `${LINKS_PREFIX}${id}.json`;
}

/** The file key can be long and holds any character: its hash keeps the prefix short and plain. */
const fileHash = (fileKey: string) => createHash('sha256').update(fileKey).digest('hex');

export function fileIndexPrefix(fileKey: string): string {
  return `${BY_FILE_PREFIX}${fileHash(fileKey)}/`;
}

export function indexKey(fileKey: string, id: string): string {
  return `${fileIndexPrefix(fileKey)}${id}`;
}

export function revokedIndexPrefix(fileKey: string): string {
  return `${REVOKED_BY_FILE_PREFIX}${fileHash(fileKey)}/`;
}

export function revokedIndexKey(fileKey: string, id: string): string {
  return `${revokedIndexPrefix(fileKey)}${id}`;
}

/** The id a marker key names, or undefined. */
export function idFromIndexKey(key: string): string | undefined {
  const id = key.slice(key.lastIndexOf('/') + 1);
  return isShareId(id) ? id : undefined;
}

/** scrypt parameters are stored with each hash, so they can be raised later without breaking old links. */
export const PasswordHash = z.object({
  algorithm: z.literal('scrypt'),
  N: z.number().int(),
  r: z.number().int(),
  p: z.number().int(),
  salt: z.string(),
  hash: z.string(),
});
export type PasswordHash = z.infer<typeof PasswordHash>;

export const LiveShare = z.object({
  version: z.literal(1),
  id: z.string(),
  fileKey: z.string(),
  fileName: z.string(),
  fileSize: z.number(),
  contentType: z.string(),
  createdAt: z.string(),
  /** null: never. */
  expiresAt: z.string().nullable(),
  /** null: no limit. */
  maxDownloads: z.number().int().nullable(),
  downloads: z.number().int(),
  lastDownloadAt: z.string().nullable(),
  note: z.string().nullable(),
  password: PasswordHash.nullable(),
});
export type LiveShare = z.infer<typeof LiveShare>;

export const RevokedShare = z.object({
  version: z.literal(1),
  id: z.string(),
  revokedAt: z.string(),
});
export type RevokedShare = z.infer<typeof RevokedShare>;

export const StoredShare = z.union([LiveShare, RevokedShare]);
export type StoredShare = LiveShare | RevokedShare;

export const isRevoked = (share: StoredShare): share is RevokedShare => 'revokedAt' in share;

export type ShareState = 'active' | 'expired' | 'exhausted' | 'revoked';

/** What a link does now. Expiry is checked against this server's clock. */
export function shareState(share: StoredShare, now = Date.now()): ShareState {
  if (isRevoked(share)) return 'revoked';
  if (share.expiresAt !== null && Date.parse(share.expiresAt) <= now) return 'expired';
  if (share.maxDownloads !== null && share.downloads >= share.maxDownloads) return 'exhausted';
  return 'active';
}

/**
 * A note is shown as text (always escaped); still, keep it to what a person typed: NFC, no control
 * characters but line breaks and tabs, no bidirectional overrides that could disguise the rest.
 */
export function cleanNote(raw: string | undefined): string | null {
  if (raw === undefined) return null;
  const cleaned = raw
    .normalize('NFC')
    .replace(/\r\n?/g, '\n')
    .replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g, '')
    .trim();
  return cleaned === '' ? null : cleaned;
}

import { createHash, randomBytes } from 'node:crypto';
import { z } from 'zod';

/**
 * Share links live in the bucket itself, under a prefix uploads can never write to: every upload
 * key is made by the server under `uploads/` (see signing/object-keys.ts) and `parseUploadKey`
 * refuses anything else, so neither a POST policy nor a link/delete call can reach `shares/`.
 *
 *   shares/links/<id>.json                                       the record: one GET opens a link
 *   shares/by-file/<sha256(file key)>/live.<expiry ms|never>.<id>   an empty marker per live link
 *   shares/by-file/<sha256(file key)>/revoked.<revoked ms>.<id>     an empty marker per revoked link
 *   … .<id>.b                                                     the same, of a bundle (one marker per file)
 *
 * One LIST of a file's prefix tells, without reading a record, how many links it has that still
 * work by the clock (the limit per file), which are revoked and since when, and which expired and
 * since when (tombstones to prune). The record is the truth; a marker only says where to look.
 * Markers are written before their record and removed after it, so a listing never misses a
 * working link (a marker without a record is skipped). A revoked link keeps a small tombstone
 * record (no name, note or password) so its page can say "revoked" (410) instead of "no such
 * link", for DEAD_LINK_RETENTION_DAYS at most (see `deadToPrune`).
 *
 * Older versions wrote `shares/by-file/<hash>/<id>` (live, expiry not in the name) and
 * `shares/revoked-by-file/<hash>/<id>`; both are still read, and removed with their file.
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

/** A bundle's markers end in `.b`: deleting a file reads only those records (the file leaves the bundle). */
const bundleSuffix = (bundle: boolean) => (bundle ? '.b' : '');

/** The marker of a live link: its expiry is in the name, so counting needs no record. */
export function liveMarkerKey(fileKey: string, id: string, expiresAt: string | null, bundle = false): string {
  return `${fileIndexPrefix(fileKey)}live.${expiresAt === null ? 'never' : Date.parse(expiresAt)}.${id}${bundleSuffix(bundle)}`;
}

/** The marker of a revoked link's tombstone, with the time it was revoked. */
export function revokedMarkerKey(fileKey: string, id: string, revokedAt: string, bundle = false): string {
  return `${fileIndexPrefix(fileKey)}revoked.${Date.parse(revokedAt)}.${id}${bundleSuffix(bundle)}`;
}

/** Where older versions kept the marker of a live link (no expiry in the name). */
export function legacyIndexKey(fileKey: string, id: string): string {
  return `${fileIndexPrefix(fileKey)}${id}`;
}

/** Where older versions kept the markers of revoked links. */
export function legacyRevokedIndexPrefix(fileKey: string): string {
  return `${REVOKED_BY_FILE_PREFIX}${fileHash(fileKey)}/`;
}

/** What a marker's name says about its link. `expiresAt`/`revokedAt` in ms; null: never expires. */
export type ShareMarker =
  | { key: string; id: string; state: 'live'; expiresAt: number | null; bundle?: true }
  | { key: string; id: string; state: 'revoked'; revokedAt: number; bundle?: true };

const MARKER = /^shares\/(by-file|revoked-by-file)\/[0-9a-f]{64}\/(?:(live|revoked)\.(never|\d{1,15})\.)?([A-Za-z0-9_-]{22})(\.b)?$/;

/** The marker a listed key is, or undefined (not a marker). A legacy marker counts as live and never expiring. */
export function parseMarker(key: string): ShareMarker | undefined {
  const match = MARKER.exec(key);
  if (!match) return undefined;
  if (match[5] !== undefined) {
    if (match[2] === undefined) return undefined; // bundles never had legacy markers
    const marker = parseMarker(key.slice(0, -2));
    return marker && { ...marker, key, bundle: true };
  }
  const [, folder, state, time, id] = match as unknown as [string, string, 'live' | 'revoked' | undefined, string | undefined, string];
  if (folder === 'revoked-by-file') return state === undefined ? { key, id, state: 'revoked', revokedAt: 0 } : undefined;
  if (state === undefined || state === 'live')
    return { key, id, state: 'live', expiresAt: time === undefined || time === 'never' ? null : Number(time) };
  return time === 'never' ? undefined : { key, id, state, revokedAt: Number(time) };
}

/** A link that still works by the clock: it counts against SHARE_LINKS_PER_FILE. */
export const isUsable = (marker: ShareMarker, now: number) =>
  marker.state === 'live' && (marker.expiresAt === null || marker.expiresAt > now);

/** Revoked and expired links are kept this long (their pages say 410), then removed. */
export const DEAD_LINK_RETENTION_DAYS = 30;
/** At most this many revoked or expired links are kept per file; the oldest go first. */
export const DEAD_LINKS_PER_FILE = 100;
/** Links pruned by one request at most: the rest go with the next one. */
export const PRUNE_PER_REQUEST = 25;

/** When a link stopped working (revoked or expired), or undefined while it works. */
const deadSince = (marker: ShareMarker, now: number) =>
  marker.state === 'revoked' ? marker.revokedAt : marker.expiresAt !== null && marker.expiresAt <= now ? marker.expiresAt : undefined;

/**
 * The revoked and expired links to remove now: those dead longer than DEAD_LINK_RETENTION_DAYS,
 * and the oldest beyond DEAD_LINKS_PER_FILE; at most PRUNE_PER_REQUEST, oldest first.
 */
export function deadToPrune(markers: readonly ShareMarker[], now: number): ShareMarker[] {
  const dead = markers
    .flatMap((marker) => {
      const since = deadSince(marker, now);
      return since === undefined ? [] : [{ marker, since }];
    })
    .sort((a, b) => a.since - b.since);
  const cutoff = now - DEAD_LINK_RETENTION_DAYS * 24 * 3600_000;
  const excess = Math.max(0, dead.length - DEAD_LINKS_PER_FILE);
  return dead
    .filter((entry, index) => index < excess || entry.since <= cutoff)
    .slice(0, PRUNE_PER_REQUEST)
    .map((entry) => entry.marker);
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

/** One file of a bundle, as it was when the bundle was made; `deleted` once its owner deleted it (it keeps its place). */
export const BundleFile = z.object({
  key: z.string(),
  name: z.string(),
  size: z.number(),
  contentType: z.string(),
  deleted: z.boolean().optional(),
});
export type BundleFile = z.infer<typeof BundleFile>;

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
  /**
   * A bundle's files (several files behind one link), in the order the owner chose; absent for a
   * one-file link. `fileKey` is then the first file's key, `fileName` a title, `fileSize` the total.
   * A deleted file stays in the list, marked (its index is how the page names it; S3ShareStore.deleteForFile);
   * the link is gone when every file is.
   */
  files: z.array(BundleFile).optional(),
  /** Whose link it is: the Person's id and space (absent in records from before accounts: the file key's space tells). */
  owner: z.object({ id: z.string(), space: z.string() }).optional(),
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

export const isBundle = (share: LiveShare): share is LiveShare & { files: BundleFile[] } => share.files !== undefined;

/** Every file a link gives access to: the bundle's files, or the one file. */
export const fileKeysOf = (share: LiveShare): string[] =>
  share.files ? share.files.flatMap((file) => (file.deleted ? [] : [file.key])) : [share.fileKey];

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
    // eslint-disable-next-line no-control-regex -- strips control characters on purpose (and bidi overrides)
    .replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g, '')
    .trim();
  return cleaned === '' ? null : cleaned;
}

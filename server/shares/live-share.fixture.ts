import { newUploadKey } from '../signing/object-keys.ts';
import { newShareId, type LiveShare } from './share-record.ts';

/** For tests: a share of a one-byte text file, made now, with no expiry, limit, note or password; `overrides` change any of it. */
export function liveShare(overrides: Partial<LiveShare> = {}): LiveShare {
  const createdAt = overrides.createdAt ?? new Date().toISOString();
  return {
    version: 1,
    id: newShareId(),
    fileKey: newUploadKey('a.txt', 'text/plain', Date.parse(createdAt)),
    fileName: 'a.txt',
    fileSize: 1,
    contentType: 'text/plain',
    createdAt,
    expiresAt: null,
    maxDownloads: null,
    downloads: 0,
    lastDownloadAt: null,
    note: null,
    password: null,
    ...overrides,
  };
}

import { afterEach, describe, expect, it, vi } from 'vitest';
import { newUploadKey, parseUploadKey } from '../signing/object-keys.ts';
import {
  cleanNote,
  fileIndexPrefix,
  idFromIndexKey,
  indexKey,
  isShareId,
  newShareId,
  recordKey,
  shareState,
  SHARES_PREFIX,
  type LiveShare,
} from './share-record.ts';
import { liveShare } from './live-share.fixture.ts';

const NOW = new Date('2026-11-23T09:30:00.000Z');

const live = (overrides: Partial<LiveShare> = {}) =>
  liveShare({ createdAt: NOW.toISOString(), expiresAt: new Date(NOW.getTime() + 3600_000).toISOString(), ...overrides });

describe('share ids', () => {
  it('are 22 base64url characters from 16 random bytes, never repeated', () => {
    const ids = Array.from({ length: 10_000 }, newShareId);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids.slice(0, 100)) {
      expect(id).toMatch(/^[A-Za-z0-9_-]{22}$/);
      expect(Buffer.from(id, 'base64url')).toHaveLength(16);
    }
  });

  it.each(['', 'short', 'AAAAAAAAAAAAAAAAAAAAA', 'AAAAAAAAAAAAAAAAAAAAAAA', 'AAAAAAAAAAAAAAAAAAAA/A', '../AAAAAAAAAAAAAAAAAAAA'])('refuses %j', (id) => {
    expect(isShareId(id)).toBe(false);
  });
});

describe('record layout', () => {
  it('keeps records and markers under shares/, which no upload key can name', () => {
    const id = newShareId();
    const fileKey = newUploadKey('report.pdf', 'application/pdf');
    for (const key of [recordKey(id), indexKey(fileKey, id)]) {
      expect(key.startsWith(SHARES_PREFIX)).toBe(true);
      expect(parseUploadKey(key)).toBeUndefined();
    }
    for (const name of ['../shares/x.json', 'shares', '..']) expect(newUploadKey(name, 'text/plain').startsWith('uploads/')).toBe(true);
  });

  it('finds a file\'s links under one prefix and reads the id back from a marker', () => {
    const id = newShareId();
    const fileKey = newUploadKey('Grüße/…?.txt', 'text/plain');
    expect(indexKey(fileKey, id)).toBe(`${fileIndexPrefix(fileKey)}${id}`);
    expect(fileIndexPrefix(fileKey)).toMatch(/^shares\/by-file\/[0-9a-f]{64}\/$/);
    expect(fileIndexPrefix(fileKey)).not.toBe(fileIndexPrefix(`${fileKey}x`));
    expect(idFromIndexKey(indexKey(fileKey, id))).toBe(id);
    expect(idFromIndexKey(`${fileIndexPrefix(fileKey)}not-an-id`)).toBeUndefined();
  });
});

describe('shareState', () => {
  afterEach(() => vi.useRealTimers());

  it('expires a link at its expiry, by the clock', () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const share = live();
    vi.setSystemTime(NOW.getTime() + 3600_000 - 1);
    expect(shareState(share)).toBe('active');
    vi.setSystemTime(NOW.getTime() + 3600_000);
    expect(shareState(share)).toBe('expired');
    vi.setSystemTime(NOW.getTime() + 400 * 24 * 3600_000);
    expect(shareState(live({ expiresAt: null }))).toBe('active');
  });

  it('is used up at the maximum downloads, and revoked above all', () => {
    expect(shareState(live({ maxDownloads: 2, downloads: 1 }), NOW.getTime())).toBe('active');
    expect(shareState(live({ maxDownloads: 2, downloads: 2 }), NOW.getTime())).toBe('exhausted');
    expect(shareState({ version: 1, id: newShareId(), revokedAt: NOW.toISOString() }, NOW.getTime())).toBe('revoked');
  });
});

describe('cleanNote', () => {
  it('keeps what a person typed and drops what disguises it', () => {
    expect(cleanNote('  Hello\r\nthere\t!  ')).toBe('Hello\nthere\t!');
    expect(cleanNote('a\u202Eexe.txt\u0000\u0007')).toBe('aexe.txt');
    expect(cleanNote('Cafe\u0301')).toBe('Café');
    expect(cleanNote('   ')).toBeNull();
    expect(cleanNote(undefined)).toBeNull();
  });
});

import { afterEach, describe, expect, it, vi } from 'vitest';
import { newUploadKey, parseUploadKey } from '../signing/object-keys.ts';
import {
  cleanNote,
  DEAD_LINK_RETENTION_DAYS,
  DEAD_LINKS_PER_FILE,
  deadToPrune,
  fileIndexPrefix,
  isShareId,
  isUsable,
  legacyIndexKey,
  legacyRevokedIndexPrefix,
  liveMarkerKey,
  parseMarker,
  PRUNE_PER_REQUEST,
  revokedMarkerKey,
  newShareId,
  recordKey,
  shareState,
  SHARES_PREFIX,
  type LiveShare,
  type ShareMarker,
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

  it.each(['', 'short', 'AAAAAAAAAAAAAAAAAAAAA', 'AAAAAAAAAAAAAAAAAAAAAAA', 'AAAAAAAAAAAAAAAAAAAA/A', '../AAAAAAAAAAAAAAAAAAAA'])(
    'refuses %j',
    (id) => {
      expect(isShareId(id)).toBe(false);
    },
  );
});

describe('record layout', () => {
  it('keeps records and markers under shares/, which no upload key can name', () => {
    const id = newShareId();
    const fileKey = newUploadKey('report.pdf', 'application/pdf');
    for (const key of [recordKey(id), liveMarkerKey(fileKey, id, null), revokedMarkerKey(fileKey, id, NOW.toISOString())]) {
      expect(key.startsWith(SHARES_PREFIX)).toBe(true);
      expect(parseUploadKey(key)).toBeUndefined();
    }
    for (const name of ['../shares/x.json', 'shares', '..']) expect(newUploadKey(name, 'text/plain').startsWith('uploads/')).toBe(true);
  });

  it("finds a file's links under one prefix, each marker's name saying its state and time", () => {
    const id = newShareId();
    const fileKey = newUploadKey('Grüße/…?.txt', 'text/plain');
    const expiresAt = new Date(NOW.getTime() + 3600_000).toISOString();
    expect(fileIndexPrefix(fileKey)).toMatch(/^shares\/by-file\/[0-9a-f]{64}\/$/);
    expect(fileIndexPrefix(fileKey)).not.toBe(fileIndexPrefix(`${fileKey}x`));
    expect(liveMarkerKey(fileKey, id, expiresAt)).toBe(`${fileIndexPrefix(fileKey)}live.${NOW.getTime() + 3600_000}.${id}`);
    expect(parseMarker(liveMarkerKey(fileKey, id, expiresAt))).toMatchObject({ id, state: 'live', expiresAt: NOW.getTime() + 3600_000 });
    expect(parseMarker(liveMarkerKey(fileKey, id, null))).toMatchObject({ id, state: 'live', expiresAt: null });
    expect(parseMarker(revokedMarkerKey(fileKey, id, NOW.toISOString()))).toMatchObject({ id, state: 'revoked', revokedAt: NOW.getTime() });
    // Markers of older versions: a bare id (live, never expiring) and the separate revoked prefix.
    expect(parseMarker(legacyIndexKey(fileKey, id))).toMatchObject({ id, state: 'live', expiresAt: null });
    expect(parseMarker(`${legacyRevokedIndexPrefix(fileKey)}${id}`)).toMatchObject({ id, state: 'revoked' });
    for (const odd of ['not-an-id', `live.12.${id}x`, `revoked.never.${id}`, `live.12.../${id}`, `gone.12.${id}`, `live..${id}`]) {
      expect(parseMarker(`${fileIndexPrefix(fileKey)}${odd}`)).toBeUndefined();
    }
  });

  it('counts a link as usable from its name alone, until it expires or is revoked', () => {
    const at = (time: number | null): ShareMarker => ({ key: 'k', id: newShareId(), state: 'live', expiresAt: time });
    expect(isUsable(at(null), NOW.getTime())).toBe(true);
    expect(isUsable(at(NOW.getTime() + 1), NOW.getTime())).toBe(true);
    expect(isUsable(at(NOW.getTime()), NOW.getTime())).toBe(false);
    expect(isUsable({ key: 'k', id: newShareId(), state: 'revoked', revokedAt: 0 }, NOW.getTime())).toBe(false);
  });
});

describe('deadToPrune', () => {
  const DAY = 24 * 3600_000;
  const now = NOW.getTime();
  const revoked = (ago: number): ShareMarker => ({ key: `r${ago}`, id: newShareId(), state: 'revoked', revokedAt: now - ago });
  const expired = (ago: number): ShareMarker => ({ key: `e${ago}`, id: newShareId(), state: 'live', expiresAt: now - ago });

  it(`removes revoked and expired links ${DEAD_LINK_RETENTION_DAYS} days after they stopped working, never a working one`, () => {
    const keep = [revoked(DAY), expired(DEAD_LINK_RETENTION_DAYS * DAY - 1), expired(-DAY), { ...expired(0), expiresAt: null }];
    const old = [revoked(DEAD_LINK_RETENTION_DAYS * DAY), expired(40 * DAY)];
    expect(
      deadToPrune([...keep, ...old], now)
        .map((m) => m.key)
        .sort(),
    ).toEqual(old.map((m) => m.key).sort());
  });

  it(`keeps at most ${DEAD_LINKS_PER_FILE} dead links per file, the newest, pruning ${PRUNE_PER_REQUEST} at a time, oldest first`, () => {
    const dead = Array.from({ length: DEAD_LINKS_PER_FILE + 10 }, (_, i) => (i % 2 ? revoked(i * 1000) : expired(i * 1000)));
    expect(deadToPrune(dead, now).map((m) => m.key)).toEqual(
      dead
        .slice(-10)
        .reverse()
        .map((m) => m.key),
    );
    const many = Array.from({ length: 1000 }, (_, i) => revoked(i));
    expect(deadToPrune(many, now).map((m) => m.key)).toEqual(
      many
        .slice(-PRUNE_PER_REQUEST)
        .reverse()
        .map((m) => m.key),
    );
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

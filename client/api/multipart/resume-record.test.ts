import { describe, expect, it } from 'vitest';
import { fileOf, memoryStorage } from './fakes.test-support.ts';
import { RECORD_MAX_AGE_MS, couldBeRecorded, fileFingerprint, parseRecord, resumableIn, webStorageRecords } from './resume-record.ts';

const NOW = 1_800_000_000_000;
const record = {
  key: 'k',
  uploadId: 'u',
  partSize: 5 * 1024 * 1024,
  partCheck: 'answered-crc32',
  createdAt: NOW - 1000,
  uploadToken: 't',
} as const;

describe('parseRecord', () => {
  it('reads a record and drops unknown fields', () => {
    expect(parseRecord(JSON.stringify({ ...record, extra: 1 }), NOW)).toEqual(record);
  });
  it('reads a record from before part checks were chosen as one whose parts carry a Content-MD5', () => {
    const { partCheck: _, ...older } = record;
    expect(parseRecord(JSON.stringify(older), NOW)).toEqual({ ...record, partCheck: 'content-md5' });
    expect(parseRecord(JSON.stringify({ ...record, partCheck: 'sha1' }), NOW)).toEqual({ ...record, partCheck: 'content-md5' });
  });
  it('refuses what is not a record, or one too old to point at a live upload', () => {
    for (const bad of [
      null,
      '',
      '{',
      '"x"',
      '[]',
      JSON.stringify({ ...record, partSize: '5' }),
      JSON.stringify({ ...record, uploadToken: 3 }),
      JSON.stringify({ ...record, uploadToken: undefined }),
    ]) {
      expect(parseRecord(bad, NOW)).toBeUndefined();
    }
    expect(parseRecord(JSON.stringify({ ...record, createdAt: NOW - RECORD_MAX_AGE_MS }), NOW)).toBeUndefined();
  });
});

describe('webStorageRecords', () => {
  it('saves, lists (newest first, name and size from the fingerprint) and forgets; drops unreadable items on load', async () => {
    const storage = memoryStorage();
    const records = webStorageRecords(
      () => storage,
      () => NOW,
    );
    const a = await fileFingerprint(fileOf(3000, 'a: b.bin'));
    const b = await fileFingerprint(fileOf(10, 'b.bin'));
    records.save(a, record);
    records.save(b, { ...record, uploadId: 'u2', createdAt: NOW });
    storage.setItem('unrelated', 'x');
    expect(resumableIn(records)).toEqual([
      { fingerprint: b, name: 'b.bin', size: 10, key: 'k', uploadId: 'u2', startedAt: NOW },
      { fingerprint: a, name: 'a: b.bin', size: 3000, key: 'k', uploadId: 'u', startedAt: NOW - 1000 },
    ]);
    records.forget(b);
    storage.setItem(`postbox:multipart:${a}`, '{broken');
    expect(records.load(a)).toBeUndefined();
    expect(records.fingerprints()).toEqual([]);
    expect(storage.getItem('unrelated')).toBe('x');
  });

  it('works on without storage (disabled or full): nothing to resume, no throw', () => {
    const records = webStorageRecords(() => {
      throw new DOMException('denied', 'SecurityError');
    });
    records.save('f', record);
    expect(records.load('f')).toBeUndefined();
    expect(records.fingerprints()).toEqual([]);
  });

  it('fingerprints tell files apart by their ends, not only name and size', async () => {
    const one = fileOf(3 * 1024 * 1024);
    const bytes = new Uint8Array(await one.arrayBuffer());
    bytes[bytes.length - 1]! ^= 1;
    const other = new File([bytes], one.name, { lastModified: one.lastModified });
    expect(await fileFingerprint(one)).not.toBe(await fileFingerprint(other));
    expect(await fileFingerprint(one)).toBe(await fileFingerprint(fileOf(3 * 1024 * 1024)));
  });
});

describe('couldBeRecorded', () => {
  it("finds a record of a file's name, size and date before its fingerprint is computed, and none for another file", async () => {
    const storage = memoryStorage();
    const store = webStorageRecords(
      () => storage,
      () => NOW,
    );
    const file = fileOf(3000, 'a:b.bin');
    store.save(await fileFingerprint(file), record);
    expect(couldBeRecorded(store, file)).toBe(true);
    const renamed = new File([file], 'b.bin', { lastModified: file.lastModified });
    const touched = new File([file], file.name, { lastModified: file.lastModified + 1 });
    const longer = fileOf(3001, 'a:b.bin');
    for (const other of [renamed, touched, longer]) expect(couldBeRecorded(store, other)).toBe(false);
  });
});

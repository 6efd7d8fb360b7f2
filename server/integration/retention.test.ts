import { CreateMultipartUploadCommand, ListMultipartUploadsCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, type ShareLink, type UploadPolicy } from '../../contract/api.ts';
import { spaceFor } from '../people/person.ts';
import { thumbnailKeyFor } from '../signing/thumbnails.ts';
import { RetentionSweeper } from '../retention/sweeper.ts';
import { newUploadKey } from '../signing/object-keys.ts';
import { postThroughPolicy, startTestPostbox, type TestPostbox } from './harness.ts';

const DAY = 24 * 3600 * 1000;
const settings = { fileDays: 30, abortIncompleteUploadsDays: 7 };

let app: TestPostbox;

beforeAll(async () => {
  app = await startTestPostbox({ FILE_RETENTION_DAYS: '30', ABORT_INCOMPLETE_UPLOADS_DAYS: '7', RATE_LIMIT_PER_MINUTE: '0' });
});
afterAll(() => app?.stop());

const keysUnder = async (prefix: string) =>
  ((await app.storage.client.send(new ListObjectsV2Command({ Bucket: app.storage.bucket, Prefix: prefix }))).Contents ?? []).map(
    (o) => o.Key,
  );

const put = (key: string) => app.storage.client.send(new PutObjectCommand({ Bucket: app.storage.bucket, Key: key, Body: 'x' }));

/** A sweeper of the app's store whose clock is `days` ahead. */
const sweeperAt = (days: number, maxListedPerRun?: number) =>
  new RetentionSweeper({
    client: app.storage.client,
    bucket: app.storage.bucket,
    settings,
    now: () => Date.now() + days * DAY,
    maxListedPerRun,
  });

describe('retention on the embedded store', () => {
  it('tells the page how long files are kept', async () => {
    expect((await app.call('GET', api.settings)).body.retentionDays).toBe(30);
  });

  it('aborts abandoned uploads after ABORT_INCOMPLETE_UPLOADS_DAYS and deletes files after FILE_RETENTION_DAYS, of every space, nothing else', async () => {
    const bytes = new TextEncoder().encode('kept for a while');
    const signed = await app.call('POST', api.uploads, { name: 'a.txt', size: bytes.length, type: 'text/plain' });
    const policy = signed.body as UploadPolicy;
    expect((await postThroughPolicy(policy, bytes)).status).toBe(204);
    const shared = await app.call('POST', api.fileShares(policy.key), { expiresIn: 90 * 24 * 3600 });
    expect(shared.status).toBe(201);
    const personKey = newUploadKey('b.txt', 'text/plain', Date.now(), spaceFor('ab'.repeat(16)));
    await put(personKey);
    // Thumbnails are copies of people's images: they go with the files (the local person's lie outside uploads/).
    await put(thumbnailKeyFor(policy.key)!);
    await put(thumbnailKeyFor(personKey)!);
    await put('postbox/kept-record');
    const abandoned = newUploadKey('big.bin', 'application/octet-stream');
    await app.storage.client.send(new CreateMultipartUploadCommand({ Bucket: app.storage.bucket, Key: abandoned }));
    const sharesBefore = await keysUnder('shares/');
    expect(sharesBefore.length).toBeGreaterThan(0);
    const uploadsLeft = async () =>
      (await app.storage.client.send(new ListMultipartUploadsCommand({ Bucket: app.storage.bucket, Prefix: 'uploads/' }))).Uploads ?? [];

    expect(await sweeperAt(6).runOnce()).toEqual({ deletedFiles: 0, abortedUploads: 0 });
    expect(await uploadsLeft()).toHaveLength(1);

    expect(await sweeperAt(8).runOnce()).toEqual({ deletedFiles: 0, abortedUploads: 1 });
    expect(await uploadsLeft()).toHaveLength(0);
    expect(await keysUnder('uploads/')).toEqual([policy.key]);

    expect(await sweeperAt(31).runOnce()).toEqual({ deletedFiles: 4, abortedUploads: 0 });
    expect(await keysUnder('uploads/')).toEqual([]);
    expect(await keysUnder('thumbs/')).toEqual([]);
    expect(await keysUnder('people/')).toEqual([]);
    expect(await keysUnder('postbox/')).toContain('postbox/kept-record');
    expect(await keysUnder('shares/')).toEqual(sharesBefore);

    // The share link of the expired file is gone: its page and its download answer 410.
    const link = (shared.body as ShareLink).url;
    expect((await fetch(link)).status).toBe(410);
    expect((await fetch(link, { method: 'POST', redirect: 'manual' })).status).toBe(410);
  });

  it('does bounded work per run and goes on where it stopped', async () => {
    const keys = [newUploadKey('1.txt', 'text/plain'), newUploadKey('2.txt', 'text/plain'), newUploadKey('3.txt', 'text/plain')];
    for (const key of keys) {
      await put(key);
      await app.storage.client.send(new CreateMultipartUploadCommand({ Bucket: app.storage.bucket, Key: key }));
    }
    const sweeper = sweeperAt(31, 2);
    expect(await sweeper.runOnce()).toEqual({ deletedFiles: 2, abortedUploads: 2 });
    expect(await keysUnder('uploads/')).toHaveLength(1);
    expect(await sweeper.runOnce()).toEqual({ deletedFiles: 1, abortedUploads: 1 });
    expect(await keysUnder('uploads/')).toEqual([]);
  });

  it('keeps files forever without FILE_RETENTION_DAYS', async () => {
    await put(newUploadKey('forever.txt', 'text/plain'));
    const sweeper = new RetentionSweeper({
      client: app.storage.client,
      bucket: app.storage.bucket,
      settings: { abortIncompleteUploadsDays: 7 },
      now: () => Date.now() + 10_000 * DAY,
    });
    expect(await sweeper.runOnce()).toEqual({ deletedFiles: 0, abortedUploads: 0 });
    expect(await keysUnder('uploads/')).toHaveLength(1);
  });
});

import { DeleteObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api } from '../../contract/api.ts';
import { UsageBook, usageKey, usedBytes, USAGE_RECHECK_MS } from '../people/usage.ts';
import { spaceFor } from '../people/person.ts';
import { postThroughPolicy, startTestPostbox, type TestPostbox } from './harness.ts';

const QUOTA = 1000;
const MiB = 1024 * 1024;
let app: TestPostbox;

beforeAll(async () => {
  app = await startTestPostbox({ USER_QUOTA_BYTES: String(QUOTA), RATE_LIMIT_PER_MINUTE: '0', MULTIPART_THRESHOLD_BYTES: String(5 * MiB) });
});
afterAll(() => app?.stop());

const sign = (size: number, name = 'a.txt') => app.call('POST', api.uploads, { name, size, type: 'text/plain' });
const usage = async () => (await app.call('GET', api.usage)).body as { usedBytes: number; files: number; quotaBytes: number | null };

describe('quota per person (USER_QUOTA_BYTES)', () => {
  it('counts signed and stored bytes, refuses past the quota with a sentence, and gives bytes back on delete', async () => {
    expect(await usage()).toEqual({ usedBytes: 0, files: 0, quotaBytes: QUOTA });
    const first = await sign(600);
    expect(first.status).toBe(201);
    expect((await postThroughPolicy(first.body, new Uint8Array(600))).status).toBe(204);
    expect((await usage()).usedBytes).toBe(600);

    const refused = await sign(500);
    expect(refused.status).toBe(413);
    expect(refused.body.error).toEqual({
      code: 'quota_exceeded',
      message: 'This upload needs 500 bytes but you have 400 bytes left of 1000 bytes.',
    });
    const multipart = await app.call('POST', api.multipartUploads, { name: 'big.bin', size: 6 * MiB, type: 'application/octet-stream' });
    expect(multipart.status).toBe(413);
    expect(multipart.body.error.code).toBe('quota_exceeded');

    expect((await app.call('DELETE', api.file(first.body.key))).status).toBe(204);
    expect((await usage()).usedBytes).toBe(0);
    expect((await sign(500)).status).toBe(201);
  });

  it('lets exactly as many parallel signings through as fit', async () => {
    const book = new UsageBook(app.storage);
    await book.cleared({ id: 'local', space: '' });
    const answers = await Promise.all(Array.from({ length: 10 }, () => sign(200)));
    expect(answers.filter((a) => a.status === 201)).toHaveLength(5);
    expect(answers.filter((a) => a.status === 413)).toHaveLength(5);
    expect((await usage()).usedBytes).toBe(1000);
  });
});

describe('files sent through a request link', () => {
  it("count against the requester's quota: a visitor's file that does not fit is refused before a slot or a policy", async () => {
    const book = new UsageBook(app.storage);
    await book.cleared({ id: 'local', space: '' });
    const link = await app.call('POST', api.requests, { expiresIn: 3600, maxFiles: 5 });
    expect(link.status).toBe(201);
    const visitor = (size: number) =>
      app.call('POST', api.requestUploads(link.body.id), { name: 'scan.pdf', size, type: 'application/pdf' });
    expect((await sign(700)).status).toBe(201);
    const refused = await visitor(400);
    expect(refused.status).toBe(413);
    expect(refused.body.error.code).toBe('quota_exceeded');
    expect((await visitor(300)).status).toBe(201);
    expect((await usage()).usedBytes).toBe(1000);
    const listed = await app.call('GET', api.requests);
    expect(listed.body.requests[0].files).toBe(1);
  });
});

describe('a full request link', () => {
  it("reserves nothing of the requester's quota: visitors knocking on it cannot fill it", async () => {
    const book = new UsageBook(app.storage);
    await book.cleared({ id: 'local', space: '' });
    const link = await app.call('POST', api.requests, { expiresIn: 3600, maxFiles: 1 });
    const visitor = () => app.call('POST', api.requestUploads(link.body.id), { name: 'scan.pdf', size: 100, type: 'application/pdf' });
    expect((await visitor()).status).toBe(201);
    for (let i = 0; i < 5; i++) expect((await visitor()).body.error.code).toBe('request_full');
    expect((await usage()).usedBytes).toBe(100);
  });
});

describe('usage records', () => {
  const person = { id: 'ab'.repeat(16), space: spaceFor('ab'.repeat(16)) };
  const put = (key: string, size: number) =>
    app.storage.client.send(new PutObjectCommand({ Bucket: app.storage.bucket, Key: key, Body: new Uint8Array(size) }));

  it('are corrected from a listing when stale: expired unused reservations go, objects deleted behind its back stop counting', async () => {
    let now = Date.UTC(2030, 0, 1);
    const book = new UsageBook(app.storage, { now: () => now });
    const used = `${person.space}uploads/0000000000a-0123456789abcdef/text/plain/used.txt`;
    const unused = `${person.space}uploads/0000000000b-0123456789abcdef/text/plain/unused.txt`;
    await book.reserve(person, { key: used, size: 100, until: now + 60_000 }, QUOTA);
    await book.reserve(person, { key: unused, size: 300, until: now + 60_000 }, QUOTA);
    await put(used, 100);
    expect(usedBytes(await book.current(person))).toBe(400);

    now += 61_000; // both policies over: the listing shows one was used
    expect(await book.current(person)).toMatchObject({ bytes: 100, files: 1, reserved: [] });

    await app.storage.client.send(new DeleteObjectCommand({ Bucket: app.storage.bucket, Key: used }));
    expect((await book.current(person)).bytes).toBe(100); // trusted while fresh
    now += USAGE_RECHECK_MS + 1;
    expect((await book.current(person)).bytes).toBe(0);
  });

  it('replace a damaged record with a listing', async () => {
    const book = new UsageBook(app.storage);
    await put(`${person.space}uploads/0000000000c-0123456789abcdef/text/plain/x.txt`, 42);
    await app.storage.client.send(
      new PutObjectCommand({ Bucket: app.storage.bucket, Key: usageKey(person.id), Body: '{"version":1,"bytes":-5' }),
    );
    expect(await book.current(person)).toMatchObject({ bytes: 42, files: 1 });
  });
});

// A real S3 (scripts/test.sh starts Ceph RGW): two instances' usage books, no shared in-process
// queue, reserving at once; only the store's conditional writes keep the sum within the quota.
const rgw = process.env.POSTBOX_RGW_ENDPOINT;
describe.runIf(rgw)('usage records on a real S3 (Ceph RGW): conditional writes across instances', () => {
  it('let exactly as many parallel reservations from two instances through as fit, first record included', async () => {
    const { CreateBucketCommand } = await import('@aws-sdk/client-s3');
    const { createS3Client } = await import('../storage/s3-client.ts');
    const bucket = `quota-${Date.now().toString(36)}`;
    const credentials = {
      accessKeyId: process.env.POSTBOX_RGW_ACCESS_KEY_ID ?? '',
      secretAccessKey: process.env.POSTBOX_RGW_SECRET_ACCESS_KEY ?? '',
    };
    const client = () =>
      createS3Client(
        { region: 'us-east-1', endpoint: rgw, forcePathStyle: true, credentials },
        { maxAttempts: 3, retryMode: 'standard', timeoutMs: 10_000 },
      );
    const [one, two] = [client(), client()];
    await one.send(new CreateBucketCommand({ Bucket: bucket }));
    try {
      const books = [new UsageBook({ client: one, bucket }), new UsageBook({ client: two, bucket })];
      const person = { id: 'ef'.repeat(16), space: spaceFor('ef'.repeat(16)) };
      const results = await Promise.allSettled(
        Array.from({ length: 10 }, (_, i) =>
          books[i % 2]!.reserve(
            person,
            { key: `${person.space}uploads/0000000000${i}-0123456789abcdef/text/plain/f.txt`, size: 200, until: Date.now() + 60_000 },
            QUOTA,
          ),
        ),
      );
      const refused = results.flatMap((r) => (r.status === 'rejected' ? [(r.reason as { code?: string }).code] : []));
      expect(refused).toEqual(Array(5).fill('quota_exceeded'));
      expect(usedBytes(await books[0]!.current(person))).toBe(1000);
    } finally {
      one.destroy();
      two.destroy();
    }
  });
});

/**
 * Every rule Postbox signs, shown to be enforced (or not) by the storage itself. The same suite runs
 * against the embedded S3 and a real S3 (Ceph RGW); where a store does not enforce a rule, the test
 * says so in its name and pins the store's actual (permissive) answer instead of passing silently.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  UploadPartCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { parse as parseDisposition } from 'content-disposition';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { api, PART_CHECKS_HEADER, type MultipartUpload, type PartUrls, type UploadPolicy } from '../../contract/api.ts';
import { createS3Client } from '../storage/s3-client.ts';
import { postThroughPolicy, startTestPostbox, type TestPostbox } from '../integration/harness.ts';

export interface ConformanceTarget {
  name: string;
  endpoint: string;
  bucket: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  /**
   * What this store does not do: RGW 16 does not store Content-Disposition from a POST form (links set it on download instead);
   * s3rver ignores If-Match, so two processes' updates of one record can race (the embedded store lives in one process).
   */
  notEnforced: Set<Gap>;
}
type Gap = 'posted-disposition' | 'conditional-writes';

const MAX = 64 * 1024;
const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
const storageCode = (xml: string) => /<Code>([^<]+)<\/Code>/.exec(xml)?.[1];

async function answer(response: Response) {
  const body = await response.text();
  return { status: response.status, code: storageCode(body) };
}

export function conformanceSuite(target: ConformanceTarget) {
  describe(`storage conformance: ${target.name}`, () => {
    let app: TestPostbox;
    let s3: S3Client;

    beforeAll(async () => {
      // The SDK's default provider chain reads these: each target runs in its own test file (process).
      process.env.AWS_ACCESS_KEY_ID = target.credentials.accessKeyId;
      process.env.AWS_SECRET_ACCESS_KEY = target.credentials.secretAccessKey;
      app = await startTestPostbox({
        S3_BUCKET: target.bucket,
        S3_ENDPOINT: target.endpoint,
        S3_FORCE_PATH_STYLE: 'true',
        MAX_UPLOAD_BYTES: String(MAX),
        S3_MAX_ATTEMPTS: '1',
      });
      s3 = createS3Client(
        { region: 'us-east-1', endpoint: target.endpoint, forcePathStyle: true, credentials: target.credentials },
        { maxAttempts: 1, retryMode: 'standard', timeoutMs: 10_000 },
      );
    });
    afterAll(async () => {
      s3?.destroy();
      await app?.stop();
    });

    const sign = async (name: string, size: number, type = 'text/plain'): Promise<UploadPolicy> => {
      const response = await app.call('POST', api.uploads, { name, size, type });
      expect(response.status).toBe(201);
      return response.body;
    };
    const exists = (key: string) =>
      s3.send(new HeadObjectCommand({ Bucket: target.bucket, Key: key })).then(
        () => true,
        () => false,
      );
    /** Posts `bytes` with the policy's fields, some replaced or added. */
    const post = (policy: UploadPolicy, bytes: Uint8Array, fields: Record<string, string> = {}) =>
      postThroughPolicy({ ...policy, fields: { ...policy.fields, ...fields } }, bytes).then(answer);
    /** Signs while the clock reads two hours ago, as if the policy or link were old. */
    const signedTwoHoursAgo = async <T>(sign: () => Promise<T>): Promise<T> => {
      vi.useFakeTimers({ toFake: ['Date'] });
      vi.setSystemTime(Date.now() - 2 * 3600_000);
      try {
        return await sign();
      } finally {
        vi.useRealTimers();
      }
    };
    const uploaded = async (name: string, bytes: Uint8Array, type = 'text/plain') => {
      const policy = await sign(name, bytes.length, type);
      expect(await post(policy, bytes)).toEqual({ status: 204, code: undefined });
      return policy;
    };
    const notEnforced = (gap: Gap) => target.notEnforced.has(gap);
    const label = (gap: Gap, text: string) => (notEnforced(gap) ? `[NOT ENFORCED by ${target.name}] ${text}` : text);

    describe('POST policy', () => {
      it('accepts the declared size and stores the exact bytes, type and name', async () => {
        const bytes = randomBytes(1000);
        const name = 'Grüße «final».txt';
        const policy = await uploaded(name, bytes);
        const object = await s3.send(new GetObjectCommand({ Bucket: target.bucket, Key: policy.key }));
        expect(sha256(await object.Body!.transformToByteArray())).toBe(sha256(bytes));
        expect(object.ContentType).toBe('text/plain');
        expect(decodeURIComponent(object.Metadata!['original-name']!)).toBe(name);
      });

      it(label('posted-disposition', 'stores the attachment disposition sent in the form (as s3rver and AWS do)'), async () => {
        const name = 'stored disposition «x».txt';
        const policy = await uploaded(name, randomBytes(10));
        const object = await s3.send(new HeadObjectCommand({ Bucket: target.bucket, Key: policy.key }));
        if (notEnforced('posted-disposition')) expect(object.ContentDisposition).toBeUndefined();
        else expect(parseDisposition(object.ContentDisposition!)).toMatchObject({ type: 'attachment', parameters: { filename: name } });
      });

      it('refuses one byte over the declared size: 400 EntityTooLarge, nothing stored', async () => {
        const policy = await sign('over.txt', 1000);
        expect(await post(policy, randomBytes(1001))).toEqual({ status: 400, code: 'EntityTooLarge' });
        expect(await exists(policy.key)).toBe(false);
      });

      it('refuses one byte under the declared size (a truncated upload): 400 EntityTooSmall, nothing stored', async () => {
        const policy = await sign('under.txt', 1000);
        expect(await post(policy, randomBytes(999))).toEqual({ status: 400, code: 'EntityTooSmall' });
        expect(await exists(policy.key)).toBe(false);
      });

      it('accepts exactly MAX_UPLOAD_BYTES; the server refuses one byte more before signing (413)', async () => {
        await uploaded('limit.bin', randomBytes(MAX), 'application/octet-stream');
        const over = await app.call('POST', api.uploads, { name: 'over.bin', size: MAX + 1, type: 'application/octet-stream' });
        expect([over.status, over.body.error.code]).toEqual([413, 'file_too_large']);
      });

      it('refuses another key, even under the upload prefix: 403 AccessDenied', async () => {
        const policy = await sign('mine.txt', 10);
        const other = policy.key.replace('mine.txt', 'theirs.txt');
        expect(await post(policy, randomBytes(10), { key: other })).toEqual({ status: 403, code: 'AccessDenied' });
        expect(await exists(other)).toBe(false);
        expect(await exists(policy.key)).toBe(false);
      });

      it.each([
        ['Content-Type', 'text/html'],
        ['Content-Disposition', 'inline'],
        ['x-amz-meta-original-name', 'someone-else.txt'],
      ])('refuses another %s: 403 AccessDenied', async (field, value) => {
        const policy = await sign('field.txt', 10);
        expect(await post(policy, randomBytes(10), { [field]: value })).toEqual({ status: 403, code: 'AccessDenied' });
        expect(await exists(policy.key)).toBe(false);
      });

      it('refuses a field the policy does not name: 403 AccessDenied', async () => {
        const policy = await sign('extra.txt', 10);
        expect(await post(policy, randomBytes(10), { 'x-amz-meta-extra': 'sneaky' })).toEqual({ status: 403, code: 'AccessDenied' });
      });

      it('refuses an expired policy: 403 AccessDenied', async () => {
        const policy = await signedTwoHoursAgo(() => sign('late.txt', 10));
        expect(new Date(policy.expiresAt).getTime()).toBeLessThan(Date.now());
        expect(await post(policy, randomBytes(10))).toEqual({ status: 403, code: 'AccessDenied' });
      });

      it('refuses a tampered signature: 403 (SignatureDoesNotMatch, or AccessDenied on RGW)', async () => {
        const policy = await sign('forged.txt', 10);
        const signature = policy.fields['X-Amz-Signature']!;
        const forged = (signature[0] === '0' ? '1' : '0') + signature.slice(1);
        const result = await post(policy, randomBytes(10), { 'X-Amz-Signature': forged });
        expect(result.status).toBe(403);
        expect(['SignatureDoesNotMatch', 'AccessDenied']).toContain(result.code);
        expect(await exists(policy.key)).toBe(false);
      });

      it('refuses a policy rewritten to allow more (re-encoded, old signature): 403', async () => {
        const policy = await sign('widened.txt', 10);
        const document = JSON.parse(Buffer.from(policy.fields.Policy!, 'base64').toString());
        document.conditions = document.conditions.map((c: unknown) =>
          Array.isArray(c) && c[0] === 'content-length-range' ? [c[0], 0, 10 ** 9] : c,
        );
        const widened = Buffer.from(JSON.stringify(document)).toString('base64');
        const result = await post(policy, randomBytes(5000), { Policy: widened });
        expect(result.status).toBe(403);
        expect(['SignatureDoesNotMatch', 'AccessDenied']).toContain(result.code);
      });
    });

    describe("request links: a visitor's policy", () => {
      const makeRequest = async (body: Record<string, unknown> = {}) => {
        const created = await app.call('POST', api.requests, { expiresIn: 3600, ...body });
        expect(created.status).toBe(201);
        return created.body.id as string;
      };
      const visitorSign = async (id: string, name: string, size: number, type = 'text/plain') => {
        const response = await app.call('POST', api.requestUploads(id), { name, size, type });
        expect(response.status).toBe(201);
        return response.body as UploadPolicy;
      };

      const instances = notEnforced('conditional-writes') ? 'one instance (s3rver ignores If-Match)' : 'two instances';
      it(
        label('conditional-writes', `10 visitors at once on ${instances}, maxFiles 5: exactly 5 policies, exactly 5 files land`),
        async () => {
          const id = await makeRequest({ maxFiles: 5 });
          const bytes = randomBytes(100);
          // A second Postbox on the same bucket: only the store's conditional writes keep the two from overbooking.
          const second = notEnforced('conditional-writes')
            ? app
            : await startTestPostbox({
                S3_BUCKET: target.bucket,
                S3_ENDPOINT: target.endpoint,
                S3_FORCE_PATH_STYLE: 'true',
                MAX_UPLOAD_BYTES: String(MAX),
              });
          const answers = await Promise.all(
            Array.from({ length: 10 }, (_, i) =>
              (i % 2 ? second : app).call('POST', api.requestUploads(id), { name: `v${i}.txt`, size: 100, type: 'text/plain' }),
            ),
          ).finally(() => (second === app ? undefined : second.stop()));
          const signed = answers.filter((a) => a.status === 201).map((a) => a.body as UploadPolicy);
          expect(signed).toHaveLength(5);
          expect(answers.filter((a) => a.status === 409).map((a) => a.body.error.code)).toEqual(Array(5).fill('request_full'));
          expect((await Promise.all(signed.map((policy) => post(policy, bytes)))).map((a) => a.status)).toEqual(Array(5).fill(204));
          const mine = await app.call('GET', api.requests);
          const request = mine.body.requests.find((r: { id: string }) => r.id === id);
          expect(request.files).toBe(5);
          expect(await Promise.all(request.received.map((file: { key: string }) => exists(file.key)))).toEqual(Array(5).fill(true));
          expect(new Set(request.received.map((file: { key: string }) => file.key))).toEqual(new Set(signed.map((p) => p.key)));
        },
      );

      it('storage refuses another key, a larger body and another type; the file carries the request id', async () => {
        const id = await makeRequest();
        const policy = await visitorSign(id, 'asked.txt', 10);
        const other = policy.key.replace('asked.txt', 'other.txt');
        expect(await post(policy, randomBytes(10), { key: other })).toEqual({ status: 403, code: 'AccessDenied' });
        expect(await post(policy, randomBytes(11))).toEqual({ status: 400, code: 'EntityTooLarge' });
        expect(await post(policy, randomBytes(10), { 'Content-Type': 'text/html' })).toEqual({ status: 403, code: 'AccessDenied' });
        expect(await post(policy, randomBytes(10), { 'x-amz-meta-request-id': 'another' })).toEqual({ status: 403, code: 'AccessDenied' });
        expect([await exists(other), await exists(policy.key)]).toEqual([false, false]);
        expect(await post(policy, randomBytes(10))).toEqual({ status: 204, code: undefined });
        const object = await s3.send(new HeadObjectCommand({ Bucket: target.bucket, Key: policy.key }));
        expect(object.Metadata!['request-id']).toBe(id);
      });
    });

    describe('download links', () => {
      const link = async (key: string, expiresIn = 3600) => {
        const response = await app.call('POST', api.fileLink(key), { expiresIn });
        expect(response.status).toBe(201);
        return response.body.url as string;
      };

      it('downloads the exact bytes as an attachment under the original name', async () => {
        const bytes = randomBytes(2000);
        const policy = await uploaded('Ünïcode link.txt', bytes);
        const response = await fetch(await link(policy.key));
        expect(response.status).toBe(200);
        expect(parseDisposition(response.headers.get('content-disposition')!)).toMatchObject({
          type: 'attachment',
          parameters: { filename: 'Ünïcode link.txt' },
        });
        expect(sha256(new Uint8Array(await response.arrayBuffer()))).toBe(sha256(bytes));
      });

      it('refuses an expired link: 403 AccessDenied', async () => {
        const policy = await uploaded('old-link.txt', randomBytes(10));
        const url = await signedTwoHoursAgo(() => link(policy.key, 3600));
        expect(await answer(await fetch(url))).toEqual({ status: 403, code: 'AccessDenied' });
      });

      it('refuses a link with a tampered signature: 403 SignatureDoesNotMatch', async () => {
        const policy = await uploaded('tampered-link.txt', randomBytes(10));
        const url = new URL(await link(policy.key));
        const signature = url.searchParams.get('X-Amz-Signature')!;
        url.searchParams.set('X-Amz-Signature', (signature[0] === '0' ? '1' : '0') + signature.slice(1));
        const result = await answer(await fetch(url));
        expect(result).toEqual({ status: 403, code: 'SignatureDoesNotMatch' });
      });

      it('refuses a link whose download name was changed: 403 SignatureDoesNotMatch', async () => {
        const policy = await uploaded('renamed.txt', randomBytes(10));
        const url = new URL(await link(policy.key));
        url.searchParams.set('response-content-disposition', 'inline');
        const result = await answer(await fetch(url));
        expect(result).toEqual({ status: 403, code: 'SignatureDoesNotMatch' });
      });
    });

    describe('objects written again (share link records are)', () => {
      it('are read whole while they are written: the old object or the new one, never part of either', async () => {
        const key = `shares/conformance/${randomUUID()}.json`;
        // Of different lengths, as a share record's grows with its first download.
        const versions = [256 * 1024, 200 * 1024].map((length, i) => Buffer.from(JSON.stringify({ fill: 'ab'[i]!.repeat(length) })));
        await s3.send(new PutObjectCommand({ Bucket: target.bucket, Key: key, Body: versions[0] }));
        const reads: string[] = [];
        const writes = (async () => {
          for (let i = 1; i <= 20; i++) await s3.send(new PutObjectCommand({ Bucket: target.bucket, Key: key, Body: versions[i % 2] }));
        })();
        const reader = async () => {
          for (let i = 0; i < 20; i++) {
            const object = await s3.send(new GetObjectCommand({ Bucket: target.bucket, Key: key }));
            reads.push(await object.Body!.transformToString());
          }
        };
        await Promise.all([writes, reader(), reader(), reader()]);
        const whole = new Set(versions.map(String));
        expect(reads.filter((text) => !whole.has(text)).map((text) => `${text.length} bytes`)).toEqual([]);
      });
    });

    describe('anonymous access', () => {
      const objectUrl = (key: string) => `${target.endpoint}/${target.bucket}/${key.split('/').map(encodeURIComponent).join('/')}`;

      it('refuses an unsigned GET: 403 AccessDenied', async () => {
        const policy = await uploaded('private.txt', randomBytes(10));
        const result = await answer(await fetch(objectUrl(policy.key)));
        expect(result).toEqual({ status: 403, code: 'AccessDenied' });
      });

      it('refuses an unsigned PUT: 403 AccessDenied', async () => {
        const key = 'uploads/anonymous-put.txt';
        const result = await answer(await fetch(objectUrl(key), { method: 'PUT', body: 'anyone' }));
        expect(result).toEqual({ status: 403, code: 'AccessDenied' });
        expect(await exists(key)).toBe(false);
      });
    });

    describe('multipart upload with presigned part URLs', () => {
      it('lands byte-identical', async () => {
        const key = `conformance/multipart-${Date.now()}.bin`;
        const bytes = randomBytes(6 * 1024 * 1024 + 123);
        const parts = [bytes.subarray(0, 5 * 1024 * 1024), bytes.subarray(5 * 1024 * 1024)];
        const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: target.bucket, Key: key }));
        const etags: string[] = [];
        for (const [index, part] of parts.entries()) {
          const url = await getSignedUrl(s3, new UploadPartCommand({ Bucket: target.bucket, Key: key, UploadId, PartNumber: index + 1 }), {
            expiresIn: 600,
          });
          const response = await fetch(url, { method: 'PUT', body: part });
          expect(response.status).toBe(200);
          etags.push(response.headers.get('etag')!);
        }
        await s3.send(
          new CompleteMultipartUploadCommand({
            Bucket: target.bucket,
            Key: key,
            UploadId,
            MultipartUpload: { Parts: etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) },
          }),
        );
        const object = await s3.send(new GetObjectCommand({ Bucket: target.bucket, Key: key }));
        expect(sha256(await object.Body!.transformToByteArray())).toBe(sha256(bytes));
        // S3's ETag for a multipart object: the MD5 of the parts' binary MD5s, a dash and their count
        // (RGW 16 gives it on GET, but an empty one in Complete's answer).
        const partMd5s = Buffer.concat(parts.map((part) => createHash('md5').update(part).digest()));
        expect(object.ETag).toBe(`"${createHash('md5').update(partMd5s).digest('hex')}-${parts.length}"`);
      });
    });

    describe('multipart upload through the API (server creates, signs parts, completes, aborts)', () => {
      const MiB = 1024 * 1024;
      let big: TestPostbox;
      beforeAll(async () => {
        big = await startTestPostbox({
          S3_BUCKET: target.bucket,
          S3_ENDPOINT: target.endpoint,
          S3_FORCE_PATH_STYLE: 'true',
          MAX_UPLOAD_BYTES: String(64 * MiB),
          MULTIPART_THRESHOLD_BYTES: String(8 * MiB),
          MULTIPART_PART_BYTES: String(8 * MiB),
          S3_MAX_ATTEMPTS: '1',
          RATE_LIMIT_PER_MINUTE: '0',
        });
      });
      afterAll(() => big?.stop());

      const md5 = (bytes: Uint8Array) => createHash('md5').update(bytes).digest('base64');
      const create = async (size: number, name = 'big.bin', partChecks?: string) => {
        const headers: Record<string, string> = partChecks === undefined ? {} : { [PART_CHECKS_HEADER]: partChecks };
        const response = await big.call('POST', api.multipartUploads, { name, size, type: 'application/octet-stream' }, headers);
        expect(response.status).toBe(201);
        return { ...(response.body as MultipartUpload), size };
      };
      const sign = async (upload: { uploadToken: string }, partNumbers: number[]) => {
        const response = await big.call('POST', api.multipartSign, { uploadToken: upload.uploadToken, partNumbers });
        expect(response.status).toBe(200);
        return (response.body as PartUrls).urls;
      };
      const listParts = (upload: { key: string; uploadId: string }) =>
        big.call('GET', `${api.multipartParts}?${new URLSearchParams({ key: upload.key, uploadId: upload.uploadId }).toString()}`);

      it('lands byte-identical; parts carry a Content-MD5 (unsigned header) that storage verifies; resume lists what it has', async () => {
        const bytes = randomBytes(17 * MiB + 99);
        const upload = await create(bytes.length);
        expect(upload.partCount).toBe(3);
        const urls = await sign(upload, [1, 2, 3]);
        const etags: string[] = [];
        for (const { partNumber, url } of urls) {
          const part = bytes.subarray((partNumber - 1) * upload.partSize, partNumber * upload.partSize);
          const response = await fetch(url, { method: 'PUT', body: part, headers: { 'content-md5': md5(part) } });
          expect(response.status).toBe(200);
          etags.push(response.headers.get('etag')!);
          if (partNumber === 2) {
            const listed = await listParts(upload);
            expect(listed.body.parts.map((p: { partNumber: number; size: number }) => [p.partNumber, p.size])).toEqual([
              [1, 8 * MiB],
              [2, 8 * MiB],
            ]);
          }
        }
        const done = await big.call('POST', api.multipartComplete, {
          uploadToken: upload.uploadToken,
          parts: etags.map((etag, i) => ({ partNumber: i + 1, etag })),
        });
        expect(done).toMatchObject({ status: 200, body: { key: upload.key, size: bytes.length } });
        const object = await s3.send(new GetObjectCommand({ Bucket: target.bucket, Key: upload.key }));
        expect(object.ContentDisposition).toMatch(/^attachment; /);
        expect(sha256(await object.Body!.transformToByteArray())).toBe(sha256(bytes));
      });

      it("answers a part sent with no checksum with its MD5 as ETag, which the page checks (partCheck 'answered-md5')", async () => {
        const bytes = randomBytes(9 * MiB);
        const upload = await create(bytes.length, 'big.bin', 'content-md5, answered-crc32, answered-md5');
        expect(upload.partCheck).toBe('answered-md5');
        // A page from before this check lists none: it is answered the one every page knows.
        const older = await create(bytes.length);
        expect(older.partCheck).toBe('content-md5');
        expect((await big.call('DELETE', api.multipartUpload(older.key, older.uploadId))).status).toBe(204);
        const { url } = (await sign(upload, [1]))[0]!;
        const part = bytes.subarray(0, 8 * MiB);
        const response = await fetch(url, { method: 'PUT', body: part });
        expect(response.status).toBe(200);
        expect(response.headers.get('etag')).toBe(`"${createHash('md5').update(part).digest('hex')}"`);
        expect((await big.call('DELETE', api.multipartUpload(upload.key, upload.uploadId))).status).toBe(204);
      });

      it('refuses a corrupted part: its Content-MD5 does not match (400 BadDigest); nothing is kept', async () => {
        const bytes = randomBytes(9 * MiB);
        const upload = await create(bytes.length);
        const { url } = (await sign(upload, [1]))[0]!;
        const part = bytes.subarray(0, 8 * MiB);
        const corrupted = Buffer.from(part);
        corrupted[4321]! ^= 0x01;
        const result = await answer(await fetch(url, { method: 'PUT', body: corrupted, headers: { 'content-md5': md5(part) } }));
        expect(result).toEqual({ status: 400, code: 'BadDigest' });
        expect((await listParts(upload)).body.parts).toEqual([]);
        expect((await big.call('DELETE', api.multipartUpload(upload.key, upload.uploadId))).status).toBe(204);
      });

      it('refuses a part of another length than its URL was signed for: 403 SignatureDoesNotMatch', async () => {
        const upload = await create(9 * MiB);
        const [first, last] = await sign(upload, [1, 2]);
        for (const [url, length] of [
          [first!.url, 8 * MiB + 1],
          [first!.url, 8 * MiB - 1],
          [last!.url, 2 * MiB],
        ] as const) {
          const result = await answer(await fetch(url, { method: 'PUT', body: randomBytes(length) }));
          expect(result).toEqual({ status: 403, code: 'SignatureDoesNotMatch' });
        }
        expect((await fetch(last!.url, { method: 'PUT', body: randomBytes(MiB) })).status).toBe(200);
        expect((await big.call('DELETE', api.multipartUpload(upload.key, upload.uploadId))).status).toBe(204);
      });

      it("refuses an upload id under another upload's key (NoSuchUpload), aborts, and lists stale uploads", async () => {
        const a = await create(9 * MiB, 'a.bin');
        const b = await create(9 * MiB, 'b.bin');
        // The API signs only an upload's own pair (its upload token binds them): sign the crossed one directly.
        const url = await big.storage
          .signerFor(big.url)
          .presignUploadPart({ bucket: big.storage.bucket, key: b.key, uploadId: a.uploadId, partNumber: 1, expiresIn: 600 });
        expect(await answer(await fetch(url, { method: 'PUT', body: randomBytes(8 * MiB) }))).toEqual({
          status: 404,
          code: 'NoSuchUpload',
        });
        expect((await listParts({ key: b.key, uploadId: a.uploadId })).status).toBe(404);
        const stale = await big.call('GET', `${api.multipartUploads}?olderThanSeconds=0`);
        expect(stale.body.uploads.map((u: { uploadId: string }) => u.uploadId)).toEqual(expect.arrayContaining([a.uploadId, b.uploadId]));
        for (const upload of [a, b]) {
          expect((await big.call('DELETE', api.multipartUpload(upload.key, upload.uploadId))).status).toBe(204);
          expect((await listParts(upload)).status).toBe(404);
        }
        const after = await big.call('GET', `${api.multipartUploads}?olderThanSeconds=0`);
        expect(after.body.uploads.map((u: { uploadId: string }) => u.uploadId)).not.toEqual(expect.arrayContaining([a.uploadId]));
      });
    });
  });
}

import { createHash, randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdtemp, open, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { request as httpRequest } from 'node:http';
import { crc32 } from 'node:zlib';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  api,
  CRC32_HEADER,
  PART_CHECKS_HEADER,
  multipartPartSize,
  storageErrorCode,
  type MultipartUpload,
  type PartUrls,
} from '../../contract/api.ts';
import { EMBEDDED_CREDENTIALS } from '../storage/embedded-s3.ts';
import { startTestPostbox, type TestPostbox } from './harness.ts';

const MiB = 1024 * 1024;
const MAX = 40 * MiB;
const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
const md5 = (bytes: Uint8Array) => createHash('md5').update(bytes).digest('base64');
const crc32Base64 = (bytes: Uint8Array) => {
  const value = Buffer.alloc(4);
  value.writeUInt32BE(crc32(bytes));
  return value.toString('base64');
};

let app: TestPostbox;
let dataDir: string;
beforeAll(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'postbox-multipart-'));
  app = await startTestPostbox({
    POSTBOX_DATA_DIR: dataDir,
    MAX_UPLOAD_BYTES: String(MAX),
    MULTIPART_THRESHOLD_BYTES: String(8 * MiB),
    MULTIPART_PART_BYTES: String(8 * MiB),
    RATE_LIMIT_PER_MINUTE: '0',
  });
});
afterAll(async () => {
  await app?.stop();
  await rm(dataDir, { recursive: true, force: true });
});

/** The created upload, with the size it was declared with (signing asks for it). */
const create = async (size: number, name = 'big.bin', type = 'application/octet-stream') => {
  const response = await app.call('POST', api.multipartUploads, { name, size, type });
  expect(response.status).toBe(201);
  return { ...(response.body as MultipartUpload), size };
};
type Upload = Awaited<ReturnType<typeof create>>;
const signing = (upload: { uploadToken: string }, partNumbers: unknown[]) =>
  app.call('POST', api.multipartSign, { uploadToken: upload.uploadToken, partNumbers });
const sign = async (upload: { uploadToken: string }, partNumbers: number[]) => {
  const response = await signing(upload, partNumbers);
  expect(response.status).toBe(200);
  return (response.body as PartUrls).urls;
};
const put = (url: string, bytes: Uint8Array, headers: Record<string, string> = {}) =>
  fetch(url, { method: 'PUT', body: Buffer.from(bytes), headers });
/** Sends the given parts of `bytes` through presigned URLs, with Content-MD5; returns their ETags. */
/** Sends parts cut `sliceSize` long (the upload's part size unless a test sends longer ones). */
const sendParts = async (upload: Upload, bytes: Uint8Array, partNumbers: number[], sliceSize = upload.partSize) => {
  const urls = await sign(upload, partNumbers);
  const etags = new Map<number, string>();
  await Promise.all(
    urls.map(async ({ partNumber, url }) => {
      const part = bytes.subarray((partNumber - 1) * sliceSize, partNumber * sliceSize);
      const response = await put(url, part, { 'content-md5': md5(part) });
      expect(response.status).toBe(200);
      etags.set(partNumber, response.headers.get('etag')!);
    }),
  );
  return etags;
};
const complete = (upload: { uploadToken: string }, parts: { partNumber: number; etag: string }[]) =>
  app.call('POST', api.multipartComplete, { uploadToken: upload.uploadToken, parts });
const listParts = (upload: { key: string; uploadId: string }) =>
  app.call('GET', `${api.multipartParts}?${new URLSearchParams({ key: upload.key, uploadId: upload.uploadId }).toString()}`);
const stored = async (key: string) => {
  const object = await app.storage.client.send(new GetObjectCommand({ Bucket: app.storage.bucket, Key: key }));
  return {
    bytes: await object.Body!.transformToByteArray(),
    contentType: object.ContentType,
    disposition: object.ContentDisposition,
    metadata: object.Metadata,
  };
};

describe('multipart uploads through the API', () => {
  it('sizes parts so that no file needs more than 10,000 (at least MULTIPART_PART_BYTES, whole MiB)', () => {
    expect(multipartPartSize(100 * MiB, 8 * MiB)).toBe(8 * MiB);
    expect(multipartPartSize(100 * MiB, 32 * MiB)).toBe(32 * MiB);
    expect(multipartPartSize(5 * 1024 ** 4, 8 * MiB)).toBe(525 * MiB);
    expect(Math.ceil((5 * 1024 ** 4) / multipartPartSize(5 * 1024 ** 4, 8 * MiB))).toBeLessThanOrEqual(10_000);
    expect(Math.ceil((100 * 1024 ** 3) / multipartPartSize(100 * 1024 ** 3, 8 * MiB))).toBeLessThanOrEqual(10_000);
  });

  it('lands byte-identical, with the server-made key, type, disposition and original name', async () => {
    const bytes = randomBytes(20 * MiB + 12345);
    const upload = await create(bytes.length, 'Grüße report.pdf', 'application/pdf');
    expect(upload).toMatchObject({ partSize: 8 * MiB, partCount: 3 });
    expect(upload.key).toMatch(/^uploads\/[0-9a-z]{11}-[0-9a-f]{16}\/application\/pdf\/Grüße report\.pdf$/);
    const etags = await sendParts(upload, bytes, [1, 2, 3]);
    const done = await complete(
      upload,
      [1, 2, 3].map((partNumber) => ({ partNumber, etag: etags.get(partNumber)! })),
    );
    expect(done).toMatchObject({ status: 200, body: { key: upload.key, size: bytes.length } });
    const object = await stored(upload.key);
    expect(sha256(object.bytes)).toBe(sha256(bytes));
    expect(object.contentType).toBe('application/pdf');
    expect(object.disposition).toMatch(/^attachment; .*filename\*=UTF-8''Gr%C3%BC%C3%9Fe%20report\.pdf$/);
    expect(object.metadata?.['original-name']).toBe(encodeURIComponent('Grüße report.pdf'));
    const files = await app.call('GET', api.files);
    expect(files.body.files.find((f: { key: string }) => f.key === upload.key)).toMatchObject({
      size: bytes.length,
      name: 'Grüße report.pdf',
    });
  });

  it('while storage joins the parts, the file is absent or whole, never a part of it', async () => {
    const bytes = randomBytes(MAX);
    const upload = await create(bytes.length);
    const etags = await sendParts(upload, bytes, [1, 2, 3, 4, 5]);
    const sizes = new Set<number | 'absent'>();
    let joined = false;
    let heads = 0;
    const watching = (async () => {
      while (!joined) {
        heads++;
        const head = await app.storage.client
          .send(new HeadObjectCommand({ Bucket: app.storage.bucket, Key: upload.key }))
          .catch(() => undefined);
        sizes.add(head?.ContentLength ?? 'absent');
      }
    })();
    const done = await complete(
      upload,
      [1, 2, 3, 4, 5].map((partNumber) => ({ partNumber, etag: etags.get(partNumber)! })),
    );
    joined = true;
    await watching;
    expect(done.status).toBe(200);
    expect(sha256((await stored(upload.key)).bytes)).toBe(sha256(bytes));
    expect([...sizes].filter((size) => size !== 'absent' && size !== MAX)).toEqual([]);
    expect(heads).toBeGreaterThan(3); // it looked while the Complete was under way
  });

  it('while storage joins the parts, a part cannot be replaced (409) and a second Complete gets the same answer', async () => {
    // A short last part: the join is held there while a Complete waits on storage, and the SDK's
    // request timeout (S3_TIMEOUT_MS) must not run out meanwhile.
    const bytes = randomBytes(8 * MiB + 4096);
    const upload = await create(bytes.length);
    const partNumbers = [1, 2];
    const etags = await sendParts(upload, bytes, partNumbers);
    const { url } = (await sign(upload, [2]))[0]!;
    const completeOnStorage = () =>
      app.storage.client.send(
        new CompleteMultipartUploadCommand({
          Bucket: app.storage.bucket,
          Key: upload.key,
          UploadId: upload.uploadId,
          MultipartUpload: { Parts: partNumbers.map((n) => ({ PartNumber: n, ETag: etags.get(n)! })) },
        }),
      );
    // Signals instead of timing: the last part and its MD5 become named pipes in the embedded store's
    // upload folder. Opening a pipe for writing waits until someone reads it, so the test knows when a
    // Complete has checked the parts (it reads the MD5s) and when the join has reached the last part
    // (held there until the test writes that part's bytes).
    const partFile = path.join(dataDir, 's3', app.storage.bucket, '._S3rver_uploads', upload.uploadId, '2');
    const md5Hex = (await readFile(`${partFile}.md5`, 'utf8')).trim();
    for (const file of [partFile, `${partFile}.md5`]) {
      await rm(file);
      execFileSync('mkfifo', [file]);
    }
    const feed = async (file: string, content: Uint8Array | string) => {
      const pipe = await open(file, 'w'); // resolves once a reader has opened it
      await pipe.writeFile(content);
      await pipe.close();
    };

    const first = completeOnStorage();
    await feed(`${partFile}.md5`, md5Hex); // the first Complete has checked the parts
    const lastPart = await open(partFile, 'w'); // the join is under way, reading the last part
    const second = completeOnStorage();
    await feed(`${partFile}.md5`, md5Hex); // the second Complete has checked the parts too: it joins the running join
    const replaced = await put(url, Buffer.alloc(4096));
    expect(replaced.status).toBe(409);
    expect(await replaced.text()).toContain('<Code>OperationAborted</Code>');
    await lastPart.writeFile(bytes.subarray(8 * MiB));
    await lastPart.close();
    const [firstDone, secondDone] = await Promise.all([first, second]);
    expect(secondDone.ETag).toBe(firstDone.ETag);
    expect(sha256((await stored(upload.key)).bytes)).toBe(sha256(bytes));
  });

  it('resumes: list-parts tells what storage already has, and only the rest is sent', async () => {
    const bytes = randomBytes(17 * MiB);
    const upload = await create(bytes.length);
    const first = await sendParts(upload, bytes, [1, 3]);
    const listed = await listParts(upload);
    expect(listed.status).toBe(200);
    expect(listed.body.parts).toEqual([
      { partNumber: 1, etag: first.get(1), size: 8 * MiB },
      { partNumber: 3, etag: first.get(3), size: MiB },
    ]);
    const second = await sendParts(upload, bytes, [2]);
    const parts = [1, 2, 3].map((partNumber) => ({ partNumber, etag: (first.get(partNumber) ?? second.get(partNumber))! }));
    expect((await complete(upload, parts)).status).toBe(200);
    expect(sha256((await stored(upload.key)).bytes)).toBe(sha256(bytes));
    // A completed upload is gone: listing or completing it again is a 404.
    expect((await listParts(upload)).status).toBe(404);
  });

  it('refuses a part whose Content-MD5 does not match its bytes (400 BadDigest), and keeps nothing of it', async () => {
    const bytes = randomBytes(9 * MiB);
    const upload = await create(bytes.length);
    const { url } = (await sign(upload, [1]))[0]!;
    const part = bytes.subarray(0, 8 * MiB);
    const corrupted = Buffer.from(part);
    corrupted[1000]! ^= 0xff;
    const response = await put(url, corrupted, { 'content-md5': md5(part) });
    expect(response.status).toBe(400);
    expect(await response.text()).toContain('<Code>BadDigest</Code>');
    expect((await listParts(upload)).body.parts).toEqual([]);
  });

  it('takes the part checks a page lists in its header, and refuses a check it does not know', async () => {
    const file = { name: 'big.bin', size: 9 * MiB, type: 'application/octet-stream' };
    const listed = await app.call('POST', api.multipartUploads, file, { [PART_CHECKS_HEADER]: 'answered-crc32, answered-md5,content-md5' });
    expect(listed).toMatchObject({ status: 201, body: { partCheck: 'answered-crc32' } });
    for (const partChecks of ['sha1', 'answered-md5;content-md5', '', Array(4).fill('content-md5').join(',')]) {
      const refused = await app.call('POST', api.multipartUploads, file, { [PART_CHECKS_HEADER]: partChecks });
      expect(refused).toMatchObject({ status: 400, body: { error: { code: 'invalid_request' } } });
    }
    // A field a page never sends is refused as before: the list goes in the header.
    const inBody = await app.call('POST', api.multipartUploads, { ...file, partChecks: ['content-md5'] });
    expect(inBody.status).toBe(400);
  });

  it('answers the CRC32 of the bytes each part brought (the page compares it with its own), and refuses a wrong or unsigned one', async () => {
    const bytes = randomBytes(9 * MiB);
    const upload = await create(bytes.length);
    expect(upload.partCheck).toBe('answered-crc32');
    const { url } = (await sign(upload, [1]))[0]!;
    const part = bytes.subarray(0, 8 * MiB);
    const damaged = Buffer.from(part);
    damaged[4321]! ^= 0x01;
    const response = await put(url, damaged);
    expect(response.status).toBe(200);
    // What arrived, not what the page meant to send: so the page can tell them apart.
    expect(response.headers.get(CRC32_HEADER)).toBe(crc32Base64(damaged));
    expect(response.headers.get(CRC32_HEADER)).not.toBe(crc32Base64(part));

    // As S3 does: an x-amz-* header the URL's signature does not cover is refused before any byte counts.
    const unsigned = await put(url, part, { [CRC32_HEADER]: crc32Base64(part) });
    expect(unsigned.status).toBe(403);
    expect(await unsigned.text()).toContain('were not signed');

    // Signed with the request (the SDK), a CRC32 that is not the body's is 400 BadDigest, and nothing is stored.
    const part2 = (checksum: string) =>
      app.storage.client.send(
        new UploadPartCommand({
          Bucket: app.storage.bucket,
          Key: upload.key,
          UploadId: upload.uploadId,
          PartNumber: 2,
          Body: part,
          ChecksumCRC32: checksum,
        }),
      );
    await expect(part2(crc32Base64(damaged))).rejects.toMatchObject({ name: 'BadDigest' });
    const good = await part2(crc32Base64(part));
    expect(good.ChecksumCRC32).toBe(crc32Base64(part));
    expect((await listParts(upload)).body.parts.map((p: { partNumber: number }) => p.partNumber)).toEqual([1, 2]);
  });

  it('refuses to complete a file shorter than declared: a part of other than its planned length, or parts left out', async () => {
    const bytes = randomBytes(16 * MiB);
    const upload = await create(bytes.length);
    const etags = await sendParts(upload, bytes, [1]);
    // Part 2 cut short (as by a PUT that broke off); sent straight to storage, whose ETag is then its own.
    const short = bytes.subarray(8 * MiB, 11 * MiB);
    const cut = await app.storage.client.send(
      new UploadPartCommand({ Bucket: app.storage.bucket, Key: upload.key, UploadId: upload.uploadId, PartNumber: 2, Body: short }),
    );
    const parts = [
      { partNumber: 1, etag: etags.get(1)! },
      { partNumber: 2, etag: cut.ETag! },
    ];
    const refused = await complete(upload, parts);
    expect(refused).toMatchObject({ status: 400, body: { error: { code: 'invalid_request' } } });
    expect(refused.body.error.message).toMatch(/^Part 2 holds 3145728 bytes, not 8388608/);
    expect((await complete(upload, parts.slice(0, 1))).status).toBe(400); // part 1 alone: 8 of 16 MiB
    // Nothing was aborted: part 2 sent again in full completes the file.
    const again = await sendParts(upload, bytes, [2]);
    const done = await complete(upload, [parts[0]!, { partNumber: 2, etag: again.get(2)! }]);
    expect(done).toMatchObject({ status: 200, body: { size: bytes.length } });
    expect(sha256((await stored(upload.key)).bytes)).toBe(sha256(bytes));
  });

  it('keeps the part already there whole when a PUT of it breaks off or brings bytes its Content-MD5 does not match', async () => {
    const bytes = randomBytes(16 * MiB);
    const upload = await create(bytes.length);
    const etags = await sendParts(upload, bytes, [1, 2]);
    const { url } = (await sign(upload, [1]))[0]!;
    // Part 1 again, broken off after 3 MiB of its 8.
    await new Promise<void>((resolve) => {
      const req = httpRequest(url, { method: 'PUT', headers: { 'content-length': String(8 * MiB) } });
      req.on('error', () => resolve());
      req.write(bytes.subarray(0, 3 * MiB), () => setTimeout(() => (req.destroy(), resolve()), 100));
    });
    // And again, whole but damaged, with the Content-MD5 of the good bytes.
    const damaged = Buffer.from(bytes.subarray(0, 8 * MiB));
    damaged[99]! ^= 0xff;
    const refused = await put(url, damaged, { 'content-md5': md5(bytes.subarray(0, 8 * MiB)) });
    expect(refused.status).toBe(400);
    await vi.waitFor(async () => {
      const listed = (await listParts(upload)).body.parts as { partNumber: number; size: number; etag: string }[];
      expect(listed.find((p) => p.partNumber === 1)).toEqual({ partNumber: 1, size: 8 * MiB, etag: etags.get(1) });
    });
    const done = await complete(
      upload,
      [1, 2].map((partNumber) => ({ partNumber, etag: etags.get(partNumber)! })),
    );
    expect(done.status).toBe(200);
    expect(sha256((await stored(upload.key)).bytes)).toBe(sha256(bytes));
  });

  it('aborts: the upload and its parts are gone, and it cannot be completed', async () => {
    const bytes = randomBytes(9 * MiB);
    const upload = await create(bytes.length);
    const etags = await sendParts(upload, bytes, [1, 2]);
    const aborted = await app.call('DELETE', api.multipartUpload(upload.key, upload.uploadId));
    expect(aborted.status).toBe(204);
    expect((await listParts(upload)).status).toBe(404);
    const done = await complete(
      upload,
      [1, 2].map((partNumber) => ({ partNumber, etag: etags.get(partNumber)! })),
    );
    expect(done.status).toBe(404);
    expect(done.body.error.code).toBe('not_found');
    await expect(app.storage.client.send(new HeadObjectCommand({ Bucket: app.storage.bucket, Key: upload.key }))).rejects.toThrow();
  });

  it('lists stale uploads of keys Postbox made, with name and type, and aborts them', async () => {
    const upload = await create(9 * MiB, 'Ferien – Film.mov', 'video/quicktime');
    // Someone else's upload under uploads/: Postbox would refuse to abort it, so it does not offer it.
    const foreign = await app.storage.client.send(
      new CreateMultipartUploadCommand({ Bucket: app.storage.bucket, Key: 'uploads/not-ours.bin' }),
    );
    const recent = await app.call('GET', `${api.multipartUploads}?olderThanSeconds=3600`);
    expect(recent.body.uploads.map((u: { uploadId: string }) => u.uploadId)).not.toContain(upload.uploadId);
    const all = await app.call('GET', `${api.multipartUploads}?olderThanSeconds=0`);
    expect(all.status).toBe(200);
    const listed = all.body.uploads.find((u: { uploadId: string }) => u.uploadId === upload.uploadId);
    expect(listed).toMatchObject({ key: upload.key, uploadId: upload.uploadId, name: 'Ferien – Film.mov', type: 'video/quicktime' });
    expect(Date.parse(listed.initiatedAt)).toBeGreaterThan(Date.now() - 60_000);
    expect(all.body.uploads.map((u: { uploadId: string }) => u.uploadId)).not.toContain(foreign.UploadId);
    for (const stale of all.body.uploads) {
      expect((await app.call('DELETE', api.multipartUpload(stale.key, stale.uploadId))).status).toBe(204);
    }
    expect((await app.call('GET', `${api.multipartUploads}?olderThanSeconds=0`)).body.uploads).toEqual([]);
    await app.storage.client.send(
      new AbortMultipartUploadCommand({ Bucket: app.storage.bucket, Key: 'uploads/not-ours.bin', UploadId: foreign.UploadId }),
    );
  });

  describe('refusals', () => {
    it('refuses a file over MAX_UPLOAD_BYTES before creating anything (413)', async () => {
      const response = await app.call('POST', api.multipartUploads, { name: 'huge.bin', size: MAX + 1, type: 'application/octet-stream' });
      expect(response).toMatchObject({ status: 413, body: { error: { code: 'file_too_large' } } });
    });

    it('refuses keys the server did not make, for listing and aborting; signing and completing take no key at all', async () => {
      const upload = await create(9 * MiB);
      const suffix = upload.key.slice('uploads/'.length);
      for (const key of ['shares/links/abc.json', 'notes.txt', 'uploads/../shares/x', `private/uploads/${suffix}`, `${upload.key}/x`]) {
        const ref = { key, uploadId: upload.uploadId };
        expect((await listParts(ref)).status, key).toBe(400);
        expect((await app.call('DELETE', api.multipartUpload(key, ref.uploadId))).status, key).toBe(400);
        // The old shape, naming key, upload id and sizes: refused whole (400), never signed.
        const named = await app.call('POST', api.multipartSign, { ...ref, size: 9 * MiB, partSize: 8 * MiB, partNumbers: [1] });
        expect([named.status, named.body.error.code]).toEqual([400, 'invalid_request']);
        const alongside = await app.call('POST', api.multipartComplete, {
          ...ref,
          uploadToken: upload.uploadToken,
          parts: [{ partNumber: 1, etag: '"x"' }],
        });
        expect([alongside.status, alongside.body.error.code]).toEqual([400, 'invalid_request']);
      }
      expect((await listParts(upload)).status).toBe(200); // the upload itself is untouched
    });

    it('refuses an upload id that belongs to another key (404, as S3 does)', async () => {
      const a = await create(9 * MiB, 'a.bin');
      const b = await create(9 * MiB, 'b.bin');
      const crossed = { key: b.key, uploadId: a.uploadId };
      expect((await listParts(crossed)).status).toBe(404);
      expect((await app.call('DELETE', api.multipartUpload(crossed.key, crossed.uploadId))).status).toBe(404);
      // The API signs only an upload's own pair (its token binds them): sign the crossed one directly.
      const url = await app.storage
        .signerFor(app.url)
        .presignUploadPart({ bucket: app.storage.bucket, ...crossed, partNumber: 1, expiresIn: 600 });
      const response = await put(url, randomBytes(8 * MiB));
      expect(response.status).toBe(404);
      expect(await response.text()).toContain('<Code>NoSuchUpload</Code>');
      // Both uploads are still there.
      expect((await listParts(a)).status).toBe(200);
      expect((await listParts(b)).status).toBe(200);
    });

    it('reads a Complete of 10,000 parts (a body far over the 16 KiB of other requests), and refuses one past its own limit', async () => {
      const upload = await create(9 * MiB);
      const parts = Array.from({ length: 10_000 }, (_, i) => ({
        partNumber: i + 1,
        etag: `"${createHash('md5').update(String(i)).digest('hex')}"`,
      }));
      expect(JSON.stringify({ ...upload, parts }).length).toBeGreaterThan(500_000);
      const listed = await complete(upload, parts);
      expect(listed).toMatchObject({
        status: 400,
        body: { error: { code: 'invalid_request', message: 'A file of 9437184 bytes has 2 parts of 8388608 bytes: there is no part 3.' } },
      });
      const padded = await complete(
        upload,
        parts.map((part) => ({ ...part, etag: part.etag.padEnd(200, ' ') })),
      );
      expect(padded).toMatchObject({ status: 400, body: { error: { code: 'invalid_request' } } });
      const tooLong = parts.map((part) => ({ ...part, etag: `${part.etag}${'\\'.repeat(100)}` }));
      expect((await complete(upload, tooLong)).status).toBe(413);
    });

    it('answers a Complete however its path is spelled (any case, a trailing slash), with its own body limit', async () => {
      const upload = await create(9 * MiB);
      const parts = Array.from({ length: 10_000 }, (_, i) => ({
        partNumber: i + 1,
        etag: `"${createHash('md5').update(String(i)).digest('hex')}"`,
      }));
      for (const path of ['/api/multipart-uploads/COMPLETE', '/api/Multipart-Uploads/Complete/', '/api/multipart-uploads/complete/']) {
        const ref = { uploadToken: upload.uploadToken };
        for (const [body, message] of [
          [{ ...ref, parts: parts.slice(0, 1) }, 'Part 1 is missing or differs from what storage has.'],
          [{ ...ref, parts }, 'A file of 9437184 bytes has 2 parts of 8388608 bytes: there is no part 3.'],
        ] as const) {
          const answer = await app.call('POST', path, body);
          expect(answer, `${path} with ${body.parts.length} parts`).toMatchObject({
            status: 400,
            body: { error: { code: 'invalid_request', message } },
          });
        }
      }
    });

    it("refuses bad part numbers (0, 10001), parts past the token's part count and too many parts in one signing request (400)", async () => {
      const upload = await create(9 * MiB);
      for (const partNumbers of [[0], [10_001], [1.5], [], [3], [1, 2, 3], Array.from({ length: 101 }, (_, i) => i + 1)]) {
        const answer = await signing(upload, partNumbers);
        expect([answer.status, answer.body.error.code], JSON.stringify(partNumbers)).toEqual([400, 'invalid_request']);
      }
      expect(await signing(upload, [1, 2, 3])).toMatchObject({
        body: { error: { message: 'A file of 9437184 bytes has 2 parts of 8388608 bytes: there is no part 3.' } },
      });
      expect((await signing(upload, [1, 2])).status).toBe(200);
    });

    it("signs parts for the upload's own part size, from its token, on another instance set to another part size", async () => {
      process.env.AWS_ACCESS_KEY_ID = EMBEDDED_CREDENTIALS.accessKeyId;
      process.env.AWS_SECRET_ACCESS_KEY = EMBEDDED_CREDENTIALS.secretAccessKey;
      const other = await startTestPostbox({
        S3_BUCKET: app.storage.bucket,
        S3_ENDPOINT: app.storage.endpoint!,
        S3_FORCE_PATH_STYLE: 'true',
        MAX_UPLOAD_BYTES: String(MAX),
        MULTIPART_PART_BYTES: String(16 * MiB),
        RATE_LIMIT_PER_MINUTE: '0',
      });
      try {
        const bytes = randomBytes(20 * MiB + 7);
        const upload = await create(bytes.length); // this instance makes parts of 8 MiB
        expect(upload.partSize).toBe(8 * MiB);
        const signed = await other.call('POST', api.multipartSign, { uploadToken: upload.uploadToken, partNumbers: [1, 2, 3] });
        expect(signed.status).toBe(200);
        const parts = [];
        for (const { partNumber, url } of (signed.body as PartUrls).urls) {
          const response = await put(url, bytes.subarray((partNumber - 1) * 8 * MiB, partNumber * 8 * MiB));
          expect(response.status).toBe(200);
          parts.push({ partNumber, etag: response.headers.get('etag')! });
        }
        const done = await other.call('POST', api.multipartComplete, { uploadToken: upload.uploadToken, parts });
        expect(done).toMatchObject({ status: 200, body: { key: upload.key, size: bytes.length } });
        expect(sha256((await stored(upload.key)).bytes)).toBe(sha256(bytes));
      } finally {
        await other.stop();
      }
    });

    it("signs each part URL for its part's length: Content-Length is a signed header", async () => {
      const upload = await create(MAX);
      const urls = await sign(upload, [1, 5]);
      for (const { url } of urls) expect(new URL(url).searchParams.get('X-Amz-SignedHeaders')).toBe('content-length;host');
      // A body of another length does not match the signature (the conformance suite shows RGW alike).
      expect((await put(urls[0]!.url, randomBytes(MiB))).status).toBe(403);
    });

    it('refuses a completion whose parts are out of order, missing, or differ from what storage has', async () => {
      const bytes = randomBytes(9 * MiB);
      const upload = await create(bytes.length);
      const etags = await sendParts(upload, bytes, [1, 2]);
      const cases = [
        [
          { partNumber: 2, etag: etags.get(2)! },
          { partNumber: 1, etag: etags.get(1)! },
        ],
        [
          { partNumber: 1, etag: etags.get(1)! },
          { partNumber: 1, etag: etags.get(1)! },
        ],
        [
          { partNumber: 1, etag: etags.get(1)! },
          { partNumber: 3, etag: etags.get(2)! },
        ],
        [
          { partNumber: 1, etag: '"00000000000000000000000000000000"' },
          { partNumber: 2, etag: etags.get(2)! },
        ],
      ];
      for (const parts of cases) {
        expect((await complete(upload, parts)).status, JSON.stringify(parts)).toBe(400);
      }
      expect(
        (
          await complete(
            upload,
            [1, 2].map((partNumber) => ({ partNumber, etag: etags.get(partNumber)! })),
          )
        ).status,
      ).toBe(200);
    });

    it("refuses to complete an upload whose parts add up to more than its token's size (413), even within MAX_UPLOAD_BYTES, and aborts it", async () => {
      const upload = await create(9 * MiB); // parts of 8 MiB and 1 MiB
      // Storage refuses an 8 MiB body on the 1 MiB part's URL; someone holding the credentials can still put one there.
      const etags = [];
      for (const partNumber of [1, 2]) {
        const part = await app.storage.client.send(
          new UploadPartCommand({
            Bucket: app.storage.bucket,
            Key: upload.key,
            UploadId: upload.uploadId,
            PartNumber: partNumber,
            Body: randomBytes(8 * MiB),
          }),
        );
        etags.push({ partNumber, etag: part.ETag! });
      }
      const done = await complete(upload, etags);
      expect(done).toMatchObject({
        status: 413,
        body: { error: { code: 'file_too_large', message: 'These parts hold 16 MiB, more than the 9 MiB this upload was created for.' } },
      });
      expect((await listParts(upload)).status).toBe(404);
    });

    it("refuses a Complete listing parts past the token's part count (400), or numbered 0 or 10001", async () => {
      const bytes = randomBytes(9 * MiB);
      const upload = await create(bytes.length);
      const etags = await sendParts(upload, bytes, [1, 2]);
      const parts = [1, 2].map((partNumber) => ({ partNumber, etag: etags.get(partNumber)! }));
      for (const extra of [
        { partNumber: 3, etag: etags.get(2)! },
        { partNumber: 10_001, etag: etags.get(2)! },
      ]) {
        expect((await complete(upload, [...parts, extra])).status, JSON.stringify(extra)).toBe(400);
      }
      expect((await complete(upload, [{ partNumber: 0, etag: etags.get(1)! }, ...parts])).status).toBe(400);
      expect((await complete(upload, parts)).status).toBe(200);
    });

    it('no client can park more than MAX_UPLOAD_BYTES under one upload: the signable parts add up to its size, at most the limit', async () => {
      const upload = await create(MAX - 12345);
      expect(upload.partCount).toBe(5);
      const partNumbers = Array.from({ length: upload.partCount }, (_, i) => i + 1);
      let signable = 0;
      for (const { partNumber, url } of await sign(upload, partNumbers)) {
        const query = new URL(url).searchParams;
        expect(query.get('X-Amz-SignedHeaders')).toBe('content-length;host');
        expect(query.get('uploadId')).toBe(upload.uploadId);
        expect(decodeURIComponent(new URL(url).pathname)).toBe(`/storage/${app.storage.bucket}/${upload.key}`);
        // Which Content-Length the URL is signed for: the one length whose signature is this URL's.
        const signingDate = new Date(query.get('X-Amz-Date')!.replace(/^(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)Z$/, '$1-$2-$3T$4:$5:$6Z'));
        const signedFor = (contentLength: number) =>
          app.storage.signerFor(app.url).presignUploadPart({
            bucket: app.storage.bucket,
            key: upload.key,
            uploadId: upload.uploadId,
            partNumber,
            contentLength,
            expiresIn: Number(query.get('X-Amz-Expires')),
            signingDate,
          });
        const length = partNumber < upload.partCount ? upload.partSize : upload.size - (upload.partCount - 1) * upload.partSize;
        expect(await signedFor(length)).toBe(url);
        expect(await signedFor(length + 1)).not.toBe(url);
        signable += length;
      }
      expect(signable).toBe(upload.size);
      expect(signable).toBeLessThanOrEqual(MAX);
      expect((await signing(upload, [upload.partCount + 1])).status).toBe(400);
    });

    describe('the upload token', () => {
      const tokenParts = (token: string) => {
        const [version, payload, mac] = token.split('.') as [string, string, string];
        return { version, payload: JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')), mac };
      };
      const withPayload = (token: string, edit: (payload: Record<string, unknown>) => void) => {
        const { version, payload, mac } = tokenParts(token);
        edit(payload);
        return `${version}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.${mac}`;
      };
      const refusal = async (uploadToken: string) => {
        const signed = await app.call('POST', api.multipartSign, { uploadToken, partNumbers: [1] });
        const completed = await app.call('POST', api.multipartComplete, { uploadToken, parts: [{ partNumber: 1, etag: '"x"' }] });
        expect(completed.status).toBe(signed.status);
        return [signed.status, signed.body.error?.code];
      };

      it('binds key, upload id, size and part size: an edited, forged or foreign token is refused (403 forbidden), a malformed one is 400', async () => {
        const a = await create(9 * MiB, 'a.bin');
        const b = await create(9 * MiB, 'b.bin');
        expect(tokenParts(a.uploadToken).payload).toMatchObject({ k: a.key, u: a.uploadId, s: 9 * MiB, p: 8 * MiB });
        for (const edit of [
          (p: Record<string, unknown>) => (p.s = MAX), // a bigger size
          (p: Record<string, unknown>) => (p.p = 64 * MiB), // a bigger part size
          (p: Record<string, unknown>) => (p.u = b.uploadId), // another upload's id
          (p: Record<string, unknown>) => (p.k = b.key), // another key
          (p: Record<string, unknown>) => (p.e = Number(p.e) + 3600), // a later expiry
        ]) {
          expect(await refusal(withPayload(a.uploadToken, edit))).toEqual([403, 'forbidden']);
        }
        // b's payload with a's signature; a's signature with one character changed.
        const { version, mac } = tokenParts(a.uploadToken);
        expect(await refusal(`${version}.${b.uploadToken.split('.')[1]}.${mac}`)).toEqual([403, 'forbidden']);
        expect(await refusal(a.uploadToken.slice(0, -1) + (a.uploadToken.endsWith('A') ? 'B' : 'A'))).toEqual([403, 'forbidden']);
        // A token of another install (its own bucket and secret).
        const elsewhere = await startTestPostbox({ MAX_UPLOAD_BYTES: String(MAX), RATE_LIMIT_PER_MINUTE: '0' });
        try {
          const foreign = await elsewhere.call('POST', api.multipartUploads, {
            name: 'x.bin',
            size: 9 * MiB,
            type: 'application/octet-stream',
          });
          expect(await refusal(foreign.body.uploadToken)).toEqual([403, 'forbidden']);
        } finally {
          await elsewhere.stop();
        }
        for (const malformed of ['', 'x', `v2${a.uploadToken.slice(2)}`, `${a.uploadToken}.x`, a.uploadToken.replace('.', '..')]) {
          expect(await refusal(malformed), malformed).toEqual([400, 'invalid_request']);
        }
        // Each token still signs for its own upload only.
        const [urlA] = await sign(a, [1]);
        expect(new URL(urlA!.url).searchParams.get('uploadId')).toBe(a.uploadId);
        expect(decodeURIComponent(new URL(urlA!.url).pathname)).toBe(`/storage/${app.storage.bucket}/${a.key}`);
      });

      it('expires after 30 days (403)', async () => {
        const upload = await create(9 * MiB);
        vi.useFakeTimers({ toFake: ['Date'] });
        try {
          vi.setSystemTime(Date.now() + 29 * 24 * 3600_000);
          expect((await signing(upload, [1])).status).toBe(200);
          vi.setSystemTime(Date.now() + 2 * 24 * 3600_000);
          expect(await signing(upload, [1])).toMatchObject({
            status: 403,
            body: { error: { code: 'forbidden', message: 'That upload has expired: start it again.' } },
          });
        } finally {
          vi.useRealTimers();
        }
      });

      it('after an abort, its token still signs but storage refuses the parts (404 NoSuchUpload) and Complete finds no upload (404)', async () => {
        const bytes = randomBytes(9 * MiB);
        const upload = await create(bytes.length);
        const etags = await sendParts(upload, bytes, [1, 2]);
        expect((await app.call('DELETE', api.multipartUpload(upload.key, upload.uploadId))).status).toBe(204);
        const [signed] = await sign(upload, [1]);
        const replay = await put(signed!.url, bytes.subarray(0, 8 * MiB));
        expect([replay.status, storageErrorCode(await replay.text())]).toEqual([404, 'NoSuchUpload']);
        const done = await complete(
          upload,
          [1, 2].map((partNumber) => ({ partNumber, etag: etags.get(partNumber)! })),
        );
        expect([done.status, done.body.error.code]).toEqual([404, 'not_found']);
      });
    });

    it('refuses to complete an upload whose parts add up to more than MAX_UPLOAD_BYTES, and aborts it', async () => {
      // Parts longer than their URLs were signed for: storage refuses them through those URLs (see the
      // conformance suite), so they go in with the server's own credentials; what storage has decides here.
      const upload = await create(MAX);
      const bytes = randomBytes(MAX + MiB);
      const partNumbers = [1, 2, 3, 4, 5];
      const sliceSize = Math.ceil(bytes.length / partNumbers.length);
      const etags = new Map<number, string>();
      for (const partNumber of partNumbers) {
        const Body = bytes.subarray((partNumber - 1) * sliceSize, partNumber * sliceSize);
        const part = await app.storage.client.send(
          new UploadPartCommand({ Bucket: app.storage.bucket, Key: upload.key, UploadId: upload.uploadId, PartNumber: partNumber, Body }),
        );
        etags.set(partNumber, part.ETag!);
      }
      const done = await complete(
        upload,
        partNumbers.map((partNumber) => ({ partNumber, etag: etags.get(partNumber)! })),
      );
      expect(done).toMatchObject({ status: 413, body: { error: { code: 'file_too_large' } } });
      expect((await listParts(upload)).status).toBe(404);
    });
  });
});

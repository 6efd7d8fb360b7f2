import { createHash, randomBytes } from 'node:crypto';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { parse as parseDisposition } from 'content-disposition';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { api, type ErrorBody, type FilePage, type UploadPolicy } from '../../contract/api.ts';
import { parseUploadKey } from '../signing/object-keys.ts';
import { postThroughPolicy, startTestPostbox, type TestPostbox } from './harness.ts';

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
const MAX = 64 * 1024;

let app: TestPostbox;

beforeAll(async () => {
  app = await startTestPostbox({ MAX_UPLOAD_BYTES: String(MAX), ALLOWED_TYPES: 'text/*,image/*,application/octet-stream,application/pdf' });
});
afterAll(() => app?.stop());

async function upload(name: string, bytes: Uint8Array, type = 'application/octet-stream'): Promise<UploadPolicy> {
  const signed = await app.call('POST', api.uploads, { name, size: bytes.length, type });
  expect(signed.status).toBe(201);
  const posted = await postThroughPolicy(signed.body, bytes, name);
  expect(posted.status).toBe(204);
  return signed.body;
}

describe('upload through the presigned POST', () => {
  it('stores the exact bytes under the server-made key, with type, disposition and original name', async () => {
    const bytes = randomBytes(10_000);
    const name = 'Überweisung März 2026.pdf';
    const policy = await upload(name, bytes, 'application/pdf');

    expect(policy.key).toMatch(/^uploads\/[0-9a-z]{11}-[0-9a-f]{16}\/application\/pdf\/Überweisung März 2026\.pdf$/);
    expect(new Date(policy.expiresAt).getTime() - Date.now()).toBeGreaterThan(800_000);

    const object = await app.storage.client.send(new GetObjectCommand({ Bucket: app.storage.bucket, Key: policy.key }));
    const stored = await object.Body!.transformToByteArray();
    expect(sha256(stored)).toBe(sha256(bytes));
    expect(object.ContentType).toBe('application/pdf');
    expect(parseDisposition(object.ContentDisposition!)).toMatchObject({ type: 'attachment', parameters: { filename: name } });
    expect(decodeURIComponent(object.Metadata!['original-name']!)).toBe(name);
  });

  it('never uses a client-chosen key or path', async () => {
    const signed = await app.call('POST', api.uploads, { name: '../../secrets/evil.txt', size: 3, type: 'text/plain' });
    expect(signed.status).toBe(201);
    expect(signed.body.key).toMatch(/^uploads\/[0-9a-z]{11}-[0-9a-f]{16}\/text\/plain\/\.\._\.\._secrets_evil\.txt$/);
    expect(signed.body.fields.key).toBe(signed.body.key);

    const withKey = await app.call('POST', api.uploads, { name: 'a.txt', size: 3, type: 'text/plain', key: 'other/x' });
    expect(withKey.status).toBe(400);
    expect(withKey.body.error.code).toBe('invalid_request');
  });

  it.each(['${filename}', 'a${filename}', '$key', '${key}.txt', '$${filename}', 'x$\u0000{filename}'])(
    'a name like %j cannot widen the policy: its key condition is exact, never a prefix',
    async (name) => {
      const signed = await app.call('POST', api.uploads, { name, size: 5, type: 'text/plain' });
      expect(signed.status).toBe(201);
      const policy = signed.body as UploadPolicy;
      const conditions: unknown[] = JSON.parse(Buffer.from(policy.fields.Policy!, 'base64').toString('utf8')).conditions;
      expect(conditions).toContainEqual({ key: policy.key });
      expect(conditions.filter((c) => Array.isArray(c) && String(c[1]).toLowerCase() === '$key')).toEqual([]);
      expect(policy.fields.key).toBe(policy.key);
      expect(policy.key).not.toContain('${');
      expect(parseUploadKey(policy.key)).toBeDefined();
    },
  );

  it('accepts an empty file', async () => {
    await upload('empty.txt', new Uint8Array(0), 'text/plain');
  });
});

describe('only keys the server made reach a :key route', () => {
  it.each([
    ['a prefix before uploads/', (key: string) => `private/${key}`],
    ['a tail after the name', (key: string) => `${key}/x`],
    ['a climb after the name', (key: string) => `${key}/../..`],
    ['an upper-case type', (key: string) => key.replace('/text/plain/', '/TEXT/plain/')],
    ['a type without subtype', (key: string) => key.replace('/text/plain/', '/text/')],
    ['a name of dots', (key: string) => key.replace(/[^/]+$/, '..')],
  ])('refuses a key with %s: 400 on every route, whether or not it exists', async (_case, variant) => {
    const policy = await upload('route.txt', randomBytes(10), 'text/plain');
    const key = variant(policy.key);
    // Put an object there, so that a route that let the key through could act on it (the embedded
    // store itself refuses keys with dot segments: then there is nothing to plant).
    const planted = await app.storage.client.send(new PutObjectCommand({ Bucket: app.storage.bucket, Key: key, Body: 'planted' })).then(
      () => true,
      () => false,
    );
    expect(planted).toBe(!/\/\.\.?(\/|$)/.test(key));
    const calls: [string, string, unknown?][] = [
      ['POST', api.fileLink(key), { expiresIn: 60 }],
      ['POST', api.fileShares(key), { expiresIn: null }],
      ['GET', api.fileShares(key)],
      ['DELETE', api.file(key)],
      ['GET', `${api.multipartParts}?${new URLSearchParams({ key, uploadId: 'x' }).toString()}`],
      ['DELETE', api.multipartUpload(key, 'x')],
    ];
    for (const [method, path, body] of calls) {
      const response = await app.call(method, path, body);
      expect([response.status, response.body?.error?.code], `${method} ${path}`).toEqual([400, 'invalid_request']);
    }
    if (!planted) return;
    const object = await app.storage.client.send(new GetObjectCommand({ Bucket: app.storage.bucket, Key: key }));
    expect(await object.Body!.transformToString()).toBe('planted');
  });
});

describe('listing', () => {
  it('lists uploads newest first with name, size, type and time, a page at a time', async () => {
    const names = ['first.txt', 'second.txt', 'third.txt'];
    for (const name of names) await upload(name, Buffer.from(name), 'text/plain');

    const firstPage = await app.call('GET', `${api.files}?limit=2`);
    expect(firstPage.status).toBe(200);
    const page1 = firstPage.body as FilePage;
    expect(page1.files.map((f) => f.name)).toEqual(['third.txt', 'second.txt']);
    expect(page1.files[0]).toMatchObject({ size: 9, type: 'text/plain' });
    expect(Date.now() - new Date(page1.files[0]!.uploadedAt).getTime()).toBeLessThan(60_000);
    expect(page1.nextCursor).toEqual(expect.any(String));

    const secondPage = await app.call('GET', `${api.files}?limit=2&cursor=${encodeURIComponent(page1.nextCursor!)}`);
    const page2 = secondPage.body as FilePage;
    expect(page2.files[0]!.name).toBe('first.txt');
    const keys = [...page1.files, ...page2.files].map((f) => f.key);
    expect(new Set(keys).size).toBe(keys.length);
  });

  it('ignores objects in the bucket that the server did not make', async () => {
    await app.storage.client.send(new PutObjectCommand({ Bucket: app.storage.bucket, Key: 'uploads/stray.txt', Body: 'x' }));
    const list = await app.call('GET', `${api.files}?limit=1000`);
    expect(list.body.files.map((f: { key: string }) => f.key)).not.toContain('uploads/stray.txt');
  });
});

describe('download links', () => {
  it('downloads the identical bytes as an attachment under the original name', async () => {
    const bytes = randomBytes(5000);
    const name = 'café menu «spécial».txt';
    const policy = await upload(name, bytes, 'text/plain');

    const link = await app.call('POST', api.fileLink(policy.key), { expiresIn: 3600 });
    expect(link.status).toBe(201);
    expect(link.body.url).toContain('X-Amz-Expires=3600');
    expect(Math.abs(new Date(link.body.expiresAt).getTime() - (Date.now() + 3600_000))).toBeLessThan(10_000);

    const download = await fetch(link.body.url);
    expect(download.status).toBe(200);
    expect(sha256(new Uint8Array(await download.arrayBuffer()))).toBe(sha256(bytes));
    const disposition = parseDisposition(download.headers.get('content-disposition')!);
    expect(disposition).toMatchObject({ type: 'attachment', parameters: { filename: name } });
  });

  it.each([59, 604_801, 1.5, '3600'])('refuses an expiry of %j', async (expiresIn) => {
    const policy = await upload('x.txt', Buffer.from('x'), 'text/plain');
    const link = await app.call('POST', api.fileLink(policy.key), { expiresIn });
    expect(link.status).toBe(400);
    expect(link.body.error.code).toBe('invalid_request');
  });

  // One person: no storage round trip. With accounts the route asks storage first (accounts.test.ts).
  it('signs a link to a file that does not exist without asking storage; S3 answers 404 NoSuchKey when it is used', async () => {
    const key = 'uploads/0000000000a-0123456789abcdef/text/plain/missing.txt';
    const link = await app.call('POST', api.fileLink(key), { expiresIn: 3600 });
    expect(link.status).toBe(201);
    const download = await fetch(link.body.url);
    expect(download.status).toBe(404);
    expect(await download.text()).toContain('<Code>NoSuchKey</Code>');
  });

  it('refuses to sign anything outside the uploads the server made', async () => {
    for (const key of [
      'uploads/stray.txt',
      'shares/secret.json',
      '../etc/passwd',
      'uploads/00000000000-0123456789abcdef/text/plain/a\u0000b',
    ]) {
      const link = await app.call('POST', api.fileLink(key), { expiresIn: 3600 });
      expect(link.status).toBe(400);
      expect(link.body.error.code).toBe('invalid_request');
      // Deleting: refused before storage is asked (a NUL in a key made storage answer 503).
      expect((await app.call('DELETE', api.file(key))).status).toBe(400);
    }
  });
});

describe('delete', () => {
  it('deletes a file, after which it is neither listed nor linkable', async () => {
    const policy = await upload('doomed.txt', Buffer.from('bye'), 'text/plain');
    const deleted = await fetch(app.url + api.file(policy.key), { method: 'DELETE' });
    expect(deleted.status).toBe(204);

    const list = await app.call('GET', `${api.files}?limit=1000`);
    expect(list.body.files.map((f: { key: string }) => f.key)).not.toContain(policy.key);
    expect((await app.call('DELETE', api.file(policy.key))).status).toBe(404);
    const link = await app.call('POST', api.fileLink(policy.key), { expiresIn: 60 });
    expect((await fetch(link.body.url)).status).toBe(404);
  });
});

describe('bad input gets a clear 4xx JSON error', () => {
  it.each([
    ['missing fields', { name: 'a.txt' }, 400, 'invalid_request'],
    ['negative size', { name: 'a.txt', size: -1, type: 'text/plain' }, 400, 'invalid_request'],
    ['fractional size', { name: 'a.txt', size: 1.5, type: 'text/plain' }, 400, 'invalid_request'],
    ['empty name', { name: '', size: 1, type: 'text/plain' }, 400, 'invalid_request'],
    ['malformed type', { name: 'a.txt', size: 1, type: 'text' }, 400, 'invalid_request'],
    ['not an object', [1, 2], 400, 'invalid_request'],
    ['too large', { name: 'big.bin', size: MAX + 1, type: 'application/octet-stream' }, 413, 'file_too_large'],
    ['type not allowed', { name: 'run.exe', size: 10, type: 'application/x-msdownload' }, 415, 'unsupported_type'],
  ])('%s: the same answer for a POST policy and a multipart upload (one reading of the rules)', async (_case, body, status, code) => {
    const response = await app.call('POST', api.uploads, body);
    expect(response.status).toBe(status);
    expect(response.body.error.code).toBe(code);
    expect(response.body.error.message).toEqual(expect.any(String));
    const multipart = await app.call('POST', api.multipartUploads, body);
    expect([multipart.status, multipart.body.error]).toEqual([status, response.body.error]);
  });

  it('accepts exactly the size limit', async () => {
    const response = await app.call('POST', api.uploads, { name: 'limit.bin', size: MAX, type: 'application/octet-stream' });
    expect(response.status).toBe(201);
    const decoded = JSON.parse(Buffer.from(response.body.fields.Policy, 'base64').toString());
    expect(decoded.conditions).toContainEqual(['content-length-range', MAX, MAX]);
  });

  it('refuses a body that is not JSON, or not valid JSON, or too big', async () => {
    const form = await app.call('POST', api.uploads, 'name=a', { 'content-type': 'application/x-www-form-urlencoded' });
    expect([form.status, form.body.error.code]).toEqual([415, 'json_required']);

    const broken = await app.call('POST', api.uploads, '{"name": ');
    expect([broken.status, broken.body.error.code]).toEqual([400, 'invalid_json']);

    const huge = await app.call('POST', api.uploads, { name: 'x'.repeat(100_000), size: 1, type: 'text/plain' });
    expect([huge.status, huge.body.error.code]).toEqual([413, 'body_too_large']);
  });

  it('reads only UTF-8, uncompressed JSON objects and arrays, however the body is sent', async () => {
    const valid = JSON.stringify({ name: 'a.txt', size: 1, type: 'text/plain' });
    const refused = async (body: string, headers: Record<string, string>) => {
      const response = await app.call('POST', api.uploads, body, headers);
      return [response.status, response.body.error.code];
    };
    expect(await refused(valid, { 'content-type': 'application/json; charset=utf-16' })).toEqual([415, 'json_required']);
    expect(await refused(valid, { 'content-encoding': 'gzip' })).toEqual([415, 'json_required']);
    for (const primitive of ['"a.txt"', 'null', '42', 'true']) expect(await refused(primitive, {})).toEqual([400, 'invalid_json']);

    const withBom = await app.call('POST', api.uploads, `\uFEFF${valid}`, { 'content-type': 'Application/JSON; Charset="UTF-8"' });
    expect(withBom.status).toBe(201);

    // Chunked, without Content-Length: read to the end, and cut off past the limit.
    const chunked = (text: string) =>
      fetch(app.url + api.uploads, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: new Blob([text]).stream(),
        duplex: 'half',
      });
    expect((await chunked(valid)).status).toBe(201);
    const huge = await chunked(JSON.stringify({ name: 'x'.repeat(100_000), size: 1, type: 'text/plain' }));
    expect([huge.status, ((await huge.json()) as ErrorBody).error.code]).toEqual([413, 'body_too_large']);
  });

  it('refuses bad list parameters and unknown routes', async () => {
    for (const query of ['limit=0', 'limit=abc', 'limit=5000', 'sort=name']) {
      const response = await app.call('GET', `${api.files}?${query}`);
      expect([response.status, response.body.error.code]).toEqual([400, 'invalid_request']);
    }
    const unknown = await app.call('GET', '/api/nothing-here');
    expect([unknown.status, unknown.body.error.code]).toEqual([404, 'not_found']);
  });
});

describe('status', () => {
  it('checks storage once for many health requests at a time, reuses a good answer for a second, never a failure', async () => {
    let headBuckets = 0;
    let failHeadBucket = false;
    app.storage.client.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName !== 'HeadBucketCommand') return next(args);
        headBuckets++;
        if (failHeadBucket) throw Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
        return next(args);
      },
      { step: 'initialize', name: 'countHeadBuckets' },
    );
    // Only Date is faked (the app runs in this process): the 1 s window is read off a clock the test
    // moves, not off a loaded machine's wall time. 5 s ahead: past any answer kept from earlier tests.
    const start = Date.now() + 5000;
    vi.useFakeTimers({ toFake: ['Date'], now: start });
    const healthStatus = async () => (await app.call('GET', api.health)).status;
    try {
      const answers = await Promise.all(Array.from({ length: 20 }, () => app.call('GET', api.health)));
      expect(answers.map((a) => a.status)).toEqual(Array(20).fill(200));
      expect(headBuckets).toBe(1);
      vi.setSystemTime(start + 999);
      expect([await healthStatus(), headBuckets]).toEqual([200, 1]);
      vi.setSystemTime(start + 1000);
      expect([await healthStatus(), headBuckets]).toEqual([200, 2]);
      vi.setSystemTime(start + 2000);
      failHeadBucket = true;
      expect([await healthStatus(), headBuckets]).toEqual([503, 3]);
      failHeadBucket = false;
      expect([await healthStatus(), headBuckets]).toEqual([200, 4]);
    } finally {
      vi.useRealTimers();
      app.storage.client.middlewareStack.remove('countHeadBuckets');
    }
  });

  it('reports healthy storage and the upload limits', async () => {
    const health = await app.call('GET', api.health);
    expect(health.status).toBe(200);
    expect(health.body).toMatchObject({ status: 'ok', storage: { reachable: true, mode: 'embedded' } });

    const settings = await app.call('GET', api.settings);
    expect(settings.body).toEqual({
      maxUploadBytes: MAX,
      multipartThresholdBytes: 64 * 1024 ** 2,
      multipartConcurrency: 4,
      allowedTypes: ['text/*', 'image/*', 'application/octet-stream', 'application/pdf'],
      deniedTypes: [],
      retentionDays: null,
    });
  });
});

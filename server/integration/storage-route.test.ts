import { createHash, randomBytes } from 'node:crypto';
import { execFile } from 'node:child_process';
import { request } from 'node:http';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, type DownloadLink, type MultipartUpload, type PartUrls, type UploadPolicy } from '../../contract/api.ts';
import { postThroughPolicy, startTestPostbox, type TestPostbox } from './harness.ts';

// The embedded store for browsers: under the app's own origin and port (/storage), signed for the
// origin the request came to. See server/http/storage-route.ts.

const MiB = 1024 * 1024;
const md5 = (bytes: Uint8Array) => createHash('md5').update(bytes).digest('base64');

/** A raw request to the app with any Host header (fetch sets its own). */
function raw(base: string, method: string, path: string, headers: Record<string, string> = {}, body?: string) {
  const { hostname, port } = new URL(base);
  return new Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }>((resolve, reject) => {
    const req = request({ hostname, port, method, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

let app: TestPostbox;
beforeAll(async () => {
  app = await startTestPostbox({
    RATE_LIMIT_PER_MINUTE: '0',
    ALLOWED_HOSTS: 'nas.lan',
    MULTIPART_THRESHOLD_BYTES: String(5 * MiB),
    MULTIPART_PART_BYTES: String(5 * MiB),
  });
});
afterAll(() => app?.stop());

async function uploadSmall(bytes: Uint8Array, name = 'hello.txt'): Promise<UploadPolicy> {
  const signed = await app.call('POST', api.uploads, { name, size: bytes.length, type: 'text/plain' });
  expect(signed.status).toBe(201);
  expect((await postThroughPolicy(signed.body, bytes, name)).status).toBe(204);
  return signed.body;
}

const linkFor = async (key: string, headers: Record<string, string> = {}): Promise<DownloadLink> => {
  const answer = await app.call('POST', api.fileLink(key), { expiresIn: 300 }, headers);
  expect(answer.status).toBe(201);
  return answer.body;
};

describe('the embedded store under the app origin', () => {
  it('signs the upload form and download links for <app origin>/storage, and both work through the app port', async () => {
    const bytes = randomBytes(3000);
    const policy = await uploadSmall(bytes);
    expect(policy.url).toBe(`${app.url}/storage/postbox`);
    const link = await linkFor(policy.key);
    expect(link.url.startsWith(`${app.url}/storage/postbox/uploads/`)).toBe(true);
    // The store's own listener is the server's, never given to browsers.
    expect(policy.url).not.toContain(app.storage.endpoint!);
    const download = await fetch(link.url);
    expect(download.status).toBe(200);
    expect(Buffer.from(await download.arrayBuffer()).equals(bytes)).toBe(true);
    expect(download.headers.get('content-disposition')).toContain('attachment');
    // A file under the app's origin never acts as one of its pages.
    expect(download.headers.get('content-security-policy')).toBe("default-src 'none'; sandbox; frame-ancestors 'none'");
    expect(download.headers.get('x-content-type-options')).toBe('nosniff');
  });

  it('sends multipart parts through presigned UploadPart URLs on the app port', async () => {
    const bytes = randomBytes(6 * MiB);
    const created = await app.call('POST', api.multipartUploads, { name: 'big.bin', size: bytes.length, type: 'application/octet-stream' });
    expect(created.status).toBe(201);
    const upload = created.body as MultipartUpload;
    const signed = await app.call('POST', api.multipartSign, { uploadToken: upload.uploadToken, partNumbers: [1, 2] });
    expect(signed.status).toBe(200);
    const parts = [];
    for (const { partNumber, url } of (signed.body as PartUrls).urls) {
      expect(url.startsWith(`${app.url}/storage/postbox/uploads/`)).toBe(true);
      const part = bytes.subarray((partNumber - 1) * upload.partSize, partNumber * upload.partSize);
      const put = await fetch(url, { method: 'PUT', body: part, headers: { 'content-md5': md5(part) } });
      expect(put.status).toBe(200);
      parts.push({ partNumber, etag: put.headers.get('etag')! });
    }
    expect((await app.call('POST', api.multipartComplete, { uploadToken: upload.uploadToken, parts })).status).toBe(200);
    const download = await fetch((await linkFor(upload.key)).url);
    expect(Buffer.from(await download.arrayBuffer()).equals(bytes)).toBe(true);
  });

  it('signs for the origin the request came to: another known name (not an IP) reaches the same bucket', async () => {
    const bytes = randomBytes(100);
    const policy = await uploadSmall(bytes);
    const port = new URL(app.url).port;
    const signed = await raw(
      app.url,
      'POST',
      api.fileLink(policy.key),
      { host: `nas.lan:${port}`, 'content-type': 'application/json' },
      '{"expiresIn":300}',
    );
    expect(signed.status).toBe(201);
    const link = new URL(JSON.parse(signed.body.toString()).url);
    expect(link.origin).toBe(`http://nas.lan:${port}`);
    // s3rver would take "nas.lan" for a bucket name (virtual-hosted style) unless told not to.
    const download = await raw(app.url, 'GET', link.pathname + link.search, { host: link.host });
    expect(download.status).toBe(200);
    expect(download.body.equals(bytes)).toBe(true);
    const viaLocalhost = await raw(
      app.url,
      'POST',
      api.uploads,
      { host: `localhost:${port}`, 'content-type': 'application/json' },
      '{"name":"a.txt","size":1,"type":"text/plain"}',
    );
    expect(JSON.parse(viaLocalhost.body.toString()).url).toBe(`http://localhost:${port}/storage/postbox`);
  });

  it('share pages redirect downloads to the store under the origin the link was opened at', async () => {
    const bytes = randomBytes(500);
    const policy = await uploadSmall(bytes, 'shared.bin');
    const created = await app.call('POST', api.fileShares(policy.key), { expiresIn: 3600 });
    expect(created.status).toBe(201);
    const sharePath = `/s/${created.body.id}`;
    const port = new URL(app.url).port;
    for (const host of [`127.0.0.1:${port}`, `nas.lan:${port}`]) {
      // A script's POST (as curl sends it) is answered with a redirect to the file.
      const opened = await raw(app.url, 'POST', sharePath, { host, 'content-type': 'application/x-www-form-urlencoded' }, '');
      expect(opened.status, host).toBe(303);
      const location = new URL(String(opened.headers.location));
      expect(location.origin).toBe(`http://${host}`);
      expect(location.pathname.startsWith('/storage/postbox/uploads/')).toBe(true);
      const download = await raw(app.url, 'GET', location.pathname + location.search, { host });
      expect(download.body.equals(bytes), host).toBe(true);
    }
  });

  it('the presign CLI signs for the running app (http://HOST:PORT/storage)', async () => {
    const policy = await uploadSmall(Buffer.from('from the cli'));
    const { port } = new URL(app.url);
    const { stdout } = await promisify(execFile)('node_modules/.bin/tsx', ['server/cli/presign.ts', 'get-object', '--key', policy.key], {
      env: { ...process.env, PORT: port, HOST: '127.0.0.1', S3_BUCKET: '', PUBLIC_URL: '' },
    });
    const url = stdout.trim();
    expect(url.startsWith(`${app.url}/storage/postbox/uploads/`)).toBe(true);
    expect(await (await fetch(url)).text()).toBe('from the cli');
  });
});

describe('what reaches the store through /storage', () => {
  let key: string;
  let path: string;
  beforeAll(async () => {
    key = (await uploadSmall(Buffer.from('secret'))).key;
    path = new URL((await linkFor(key)).url).pathname;
  });

  it('refuses a Host the app does not serve (DNS rebinding), with a signed link too', async () => {
    const link = new URL((await linkFor(key)).url);
    const port = new URL(app.url).port;
    const answer = await raw(app.url, 'GET', link.pathname + link.search, { host: `rebind.attacker.example:${port}` });
    expect([answer.status, JSON.parse(answer.body.toString()).error.code]).toEqual([421, 'unknown_host']);
  });

  it('refuses anonymous requests: GET, listing, DELETE, and a session cookie is no signature', async () => {
    for (const [method, target] of [
      ['GET', path],
      ['HEAD', path],
      ['GET', '/storage/postbox?list-type=2'],
      ['GET', '/storage/postbox'],
      ['DELETE', path],
      ['PUT', `${path}x`],
      ['POST', '/storage/postbox?delete'],
    ] as const) {
      const answer = await raw(app.url, method, target, { cookie: 'postbox_session=v1.9999999999.' + '0'.repeat(64) });
      expect(answer.status, `${method} ${target}`).toBe(403);
    }
    // Still there.
    expect((await fetch((await linkFor(key)).url)).status).toBe(200);
  });

  it('serves the one bucket only, and no paths with dot segments or encoded slashes', async () => {
    const signature = 'X-Amz-Signature=0000';
    const cases: [string, number][] = [
      [`/storage/?${signature}`, 404],
      [`/storage/other-bucket/x?${signature}`, 404],
      [`/storage/postbox/uploads/../../s3/postbox?${signature}`, 400],
      [`/storage/postbox/uploads/%2e%2e/%2E%2E/x?${signature}`, 400],
      [`/storage/postbox/uploads%2F..%2F..%2Fx?${signature}`, 400],
      [`/storage/postbox/uploads%5c..%5cx?${signature}`, 400],
      [`/storage/postbox/./uploads?${signature}`, 400],
    ];
    for (const [target, status] of cases) {
      const answer = await raw(app.url, 'GET', target);
      expect(answer.status, target).toBe(status);
      expect(JSON.parse(answer.body.toString()).error.code, target).toBe(status === 404 ? 'not_found' : 'invalid_request');
    }
  });

  it('refuses a forged or altered signature on a GET link, even with a session cookie', async () => {
    const link = new URL((await linkFor(key)).url);
    const signature = link.searchParams.get('X-Amz-Signature')!;
    const forged = new URL(link);
    forged.searchParams.set('X-Amz-Signature', (signature[0] === 'a' ? 'b' : 'a') + signature.slice(1));
    const renamed = new URL(link);
    renamed.searchParams.set('response-content-disposition', 'inline');
    for (const url of [forged, renamed]) {
      const answer = await raw(app.url, 'GET', url.pathname + url.search, { cookie: 'postbox_session=v1.9999999999.' + '0'.repeat(64) });
      expect(answer.status).toBe(403);
      expect(answer.body.toString()).toContain('<Code>SignatureDoesNotMatch</Code>');
    }
    expect((await raw(app.url, 'GET', link.pathname + link.search)).status).toBe(200);
  });

  it('refuses a GET link signed for origin A (127.0.0.1:port) when sent to origin B (localhost:port)', async () => {
    const link = new URL((await linkFor(key)).url);
    expect(link.hostname).toBe('127.0.0.1');
    const answer = await raw(app.url, 'GET', link.pathname + link.search, { host: `localhost:${link.port}` });
    expect(answer.status).toBe(403);
    expect(answer.body.toString()).toContain('<Code>SignatureDoesNotMatch</Code>');
  });
});

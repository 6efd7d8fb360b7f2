import { createHash, createHmac } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsCommand,
  PutObjectCommand,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { createPresignedPost } from '@aws-sdk/s3-presigned-post';
import { SignatureV4 } from '@smithy/signature-v4';
import { afterAll, describe, expect, it } from 'vitest';
import { Signer } from '../signing/signer.ts';
import { EMBEDDED_CREDENTIALS, startEmbeddedS3 } from './embedded-s3.ts';
import { createS3Client, createSigningClient } from './s3-client.ts';

const BUCKET = 'gate';
// The store's data three levels down in a folder of its own: a file anywhere under `outer` but in
// the store's folders is a write outside the data folder.
const outer = await mkdtemp(path.join(tmpdir(), 'postbox-gate-'));
const dir = path.join(outer, 'inner', 'data');
const embedded = await startEmbeddedS3({ dataDir: dir, port: 0, bucket: BUCKET });
const { endpoint } = embedded;
const client = createS3Client(
  { region: 'us-east-1', endpoint, forcePathStyle: true, credentials: EMBEDDED_CREDENTIALS },
  { maxAttempts: 1, retryMode: 'standard', timeoutMs: 5000 },
);
const { host } = new URL(endpoint);
afterAll(async () => {
  client.destroy();
  await embedded.stop();
  await rm(outer, { recursive: true, force: true });
});

const bytes = (data: string | ArrayBuffer | ArrayBufferView) =>
  typeof data === 'string'
    ? data
    : ArrayBuffer.isView(data)
      ? Buffer.from(data.buffer, data.byteOffset, data.byteLength)
      : Buffer.from(data);

/** node:crypto behind the SDK's Checksum interface, for SignatureV4. */
class Sha256 {
  private hash;
  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    this.hash = secret ? createHmac('sha256', bytes(secret)) : createHash('sha256');
  }
  update(data: string | ArrayBuffer | ArrayBufferView) {
    this.hash.update(bytes(data));
  }
  async digest() {
    return new Uint8Array(this.hash.digest());
  }
  reset() {}
}
const signer = (secretAccessKey = EMBEDDED_CREDENTIALS.secretAccessKey) =>
  new SignatureV4({
    credentials: { ...EMBEDDED_CREDENTIALS, secretAccessKey },
    region: 'us-east-1',
    service: 's3',
    sha256: Sha256,
    uriEscapePath: false,
  });

interface RawRequest {
  method: string;
  /** Sent as is (no URL normalisation): `/bucket/..%2Fx?a=b`. */
  target: string;
  headers?: Record<string, string | string[]>;
  body?: string | Buffer;
}
interface Answer {
  status: number;
  code?: string;
  body: string;
}

/** Sends a request byte for byte as given (node:http does not normalise the path as fetch's URL parser does). */
function send({ method, target, headers = {}, body }: RawRequest): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({
      host: '127.0.0.1',
      port: Number(new URL(endpoint).port),
      method,
      path: target,
      headers: { host, ...headers },
      setHost: false,
    });
    req.on('error', reject);
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString();
        resolve({ status: res.statusCode!, code: /<Code>([^<]+)<\/Code>/.exec(text)?.[1], body: text });
      });
    });
    req.end(body);
  });
}

/** Sends bytes over a socket; the answer's status line. */
function rawStatusLine(text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(Number(new URL(endpoint).port), '127.0.0.1', () => socket.end(text));
    let answer = '';
    socket.on('data', (chunk) => (answer += chunk.toString()));
    socket.on('close', () => resolve(answer.split('\r\n')[0]!));
    socket.on('error', reject);
  });
}

/** Signs with header auth (the SDK's SignatureV4) the request as it will be sent; the canonical URI is `target`'s path as is. */
async function signed(
  raw: RawRequest,
  options: { secret?: string; date?: Date; headers?: Record<string, string> } = {},
): Promise<RawRequest> {
  const url = new URL(raw.target, endpoint);
  const query: Record<string, string> = {};
  for (const [name, value] of url.searchParams) query[name] = value;
  const body = raw.body ?? '';
  const pathname = raw.target.split('?')[0]!;
  const result = await signer(options.secret).sign(
    {
      method: raw.method,
      protocol: 'http:',
      hostname: '127.0.0.1',
      port: Number(url.port),
      path: pathname,
      query,
      headers: { host, 'x-amz-content-sha256': createHash('sha256').update(body).digest('hex'), ...options.headers },
      body,
    },
    { signingDate: options.date },
  );
  return { ...raw, headers: { ...(result.headers as Record<string, string>), ...raw.headers } };
}

/** Every file under the store's folder, relative to it. */
async function filesUnder(folder: string): Promise<string[]> {
  return (await readdir(folder, { recursive: true, withFileTypes: true }))
    .filter((entry) => entry.isFile())
    .map((entry) => path.relative(folder, path.join(entry.parentPath, entry.name)));
}

describe('signatures (SigV4)', () => {
  it("keeps the app's own client working: put, head, get, list, delete", async () => {
    await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'own/a b+c.txt', Body: 'hello' }));
    expect((await client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'own/a b+c.txt' }))).ContentLength).toBe(5);
    expect(await (await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'own/a b+c.txt' }))).Body!.transformToString()).toBe(
      'hello',
    );
    expect((await client.send(new ListObjectsCommand({ Bucket: BUCKET, Prefix: 'own/' }))).Contents?.map((o) => o.Key)).toEqual([
      'own/a b+c.txt',
    ]);
    await client.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: 'own/a b+c.txt' }));
  });

  it('refuses an anonymous GET, PUT and ListObjects with 403 AccessDenied (XML)', async () => {
    await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'private.txt', Body: 'secret' }));
    for (const raw of [
      { method: 'GET', target: `/${BUCKET}/private.txt` },
      { method: 'PUT', target: `/${BUCKET}/anonymous.txt`, body: 'x' },
      { method: 'GET', target: `/${BUCKET}` },
      { method: 'GET', target: `/${BUCKET}/private.txt?acl` },
      { method: 'GET', target: `/${BUCKET}?policy` },
      { method: 'GET', target: '/' },
    ]) {
      const answer = await send(raw);
      expect({ target: raw.target, status: answer.status, code: answer.code }).toEqual({
        target: raw.target,
        status: 403,
        code: 'AccessDenied',
      });
      expect(answer.body).toMatch(/^<\?xml/);
    }
    expect((await filesUnder(dir)).filter((file) => file.includes('anonymous'))).toEqual([]);
  });

  it('accepts header auth signed right, refuses a wrong key (SignatureDoesNotMatch) and an old date (RequestTimeTooSkewed)', async () => {
    await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'header.txt', Body: 'header auth' }));
    const get = { method: 'GET', target: `/${BUCKET}/header.txt` };
    expect(await send(await signed(get))).toMatchObject({ status: 200, body: 'header auth' });
    expect(await send(await signed(get, { secret: 'not-the-secret' }))).toMatchObject({ status: 403, code: 'SignatureDoesNotMatch' });
    expect(await send(await signed(get, { date: new Date(Date.now() - 20 * 60_000) }))).toMatchObject({
      status: 403,
      code: 'RequestTimeTooSkewed',
    });
    // Another key or method with the same signature.
    const good = await signed(get);
    expect(await send({ ...good, target: `/${BUCKET}/private.txt` })).toMatchObject({ status: 403, code: 'SignatureDoesNotMatch' });
    expect(await send({ ...good, method: 'DELETE' })).toMatchObject({ status: 403, code: 'SignatureDoesNotMatch' });
  });

  it('refuses x-amz-* headers the signature does not cover (a copy source added to a presigned PUT)', async () => {
    const url = new URL(await getSignedUrl(client, new PutObjectCommand({ Bucket: BUCKET, Key: 'copy-target.txt' }), { expiresIn: 600 }));
    const answer = await send({
      method: 'PUT',
      target: url.pathname + url.search,
      headers: { 'x-amz-copy-source': `/${BUCKET}/private.txt` },
      body: '',
    });
    expect(answer).toMatchObject({ status: 403, code: 'AccessDenied' });
    expect(answer.body).toContain('not signed: x-amz-copy-source');
  });

  describe('query auth (presigned URLs)', () => {
    const presignedGet = (key: string, options: { expiresIn?: number; signingDate?: Date } = {}) =>
      getSignedUrl(client, new GetObjectCommand({ Bucket: BUCKET, Key: key }), { expiresIn: 600, ...options });

    it('accepts getSignedUrl and Postbox’s Signer, for keys that need encoding', async () => {
      const key = "uploads/x/text/plain/Grüße (1) [a+b] 'c'*!~.txt";
      await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: 'encoded' }));
      expect(await (await fetch(await presignedGet(key))).text()).toBe('encoded');
      const own = new Signer(
        createSigningClient({ region: 'us-east-1', endpoint, forcePathStyle: true, credentials: EMBEDDED_CREDENTIALS }),
      );
      const link = await own.presignGetObject({
        bucket: BUCKET,
        key,
        expiresIn: 600,
        response: { contentDisposition: 'attachment; filename="x"' },
      });
      const response = await fetch(link);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-disposition')).toBe('attachment; filename="x"');
      const put = await own.presignPutObject({ bucket: BUCKET, key: 'uploads/put.txt', expiresIn: 600 });
      expect((await fetch(put, { method: 'PUT', body: 'put' })).status).toBe(200);
      expect((await fetch(put, { method: 'GET' })).status).toBe(403); // another method
    });

    it('refuses a tampered signature, an added or duplicated parameter, another key', async () => {
      await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'link.txt', Body: 'link' }));
      const url = new URL(await presignedGet('link.txt'));
      const target = url.pathname + url.search;
      const signature = url.searchParams.get('X-Amz-Signature')!;
      const tampered = target.replace(signature, (signature[0] === '0' ? '1' : '0') + signature.slice(1));
      expect(await send({ method: 'GET', target: tampered })).toMatchObject({ status: 403, code: 'SignatureDoesNotMatch' });
      expect(await send({ method: 'GET', target: `${target}&response-content-type=text/html` })).toMatchObject({
        status: 403,
        code: 'SignatureDoesNotMatch',
      });
      expect(await send({ method: 'GET', target: `${target}&X-Amz-Expires=604800` })).toMatchObject({
        status: 400,
        code: 'InvalidArgument',
      });
      expect(await send({ method: 'GET', target: target.replace('/link.txt', '/private.txt') })).toMatchObject({
        status: 403,
        code: 'SignatureDoesNotMatch',
      });
      // The signature moved from the query into an Authorization header.
      const bare = new URL(url);
      bare.searchParams.delete('X-Amz-Signature');
      const moved = `AWS4-HMAC-SHA256 Credential=${url.searchParams.get('X-Amz-Credential')}, SignedHeaders=host, Signature=${signature}`;
      expect(await send({ method: 'GET', target: bare.pathname + bare.search, headers: { authorization: moved } })).toMatchObject({
        status: 400,
        code: 'InvalidArgument',
      });
    });

    it('refuses an expired link (403 AccessDenied) and an X-Amz-Expires over 7 days (400)', async () => {
      const expired = await presignedGet('link.txt', { expiresIn: 60, signingDate: new Date(Date.now() - 120_000) });
      expect(await send({ method: 'GET', target: new URL(expired).pathname + new URL(expired).search })).toMatchObject({
        status: 403,
        code: 'AccessDenied',
      });
      const url = new URL(await presignedGet('link.txt'));
      url.searchParams.set('X-Amz-Expires', '604801');
      expect(await send({ method: 'GET', target: url.pathname + url.search })).toMatchObject({
        status: 400,
        code: 'AuthorizationQueryParametersError',
      });
    });

    it('holds a part URL to its signed Content-Length', async () => {
      const { UploadId } = await client.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: 'parts.bin' }));
      const url = await getSignedUrl(
        client,
        new UploadPartCommand({ Bucket: BUCKET, Key: 'parts.bin', UploadId, PartNumber: 1, ContentLength: 10 }),
        { expiresIn: 600 },
      );
      expect((await fetch(url, { method: 'PUT', body: 'x'.repeat(11) })).status).toBe(403);
      expect((await fetch(url, { method: 'PUT', body: 'x'.repeat(10) })).status).toBe(200);
    });
  });
});

describe('hosts', () => {
  it('answers its own host names only; a foreign Host creates no bucket', async () => {
    const before = await readdir(path.join(dir, 's3'));
    const port = new URL(endpoint).port;
    for (const foreign of ['evil.example', `evil.example:${port}`, `127.0.0.1:${Number(port) + 1}`, 'postbox.s3.amazonaws.com']) {
      const request = await signed({ method: 'PUT', target: '/' }, { headers: { host: foreign } });
      const answer = await send({ ...request, headers: { ...request.headers, host: foreign } });
      expect({ foreign, status: answer.status, code: answer.code }).toEqual({ foreign, status: 400, code: 'InvalidArgument' });
    }
    expect(await readdir(path.join(dir, 's3'))).toEqual(before);
    const twice = await rawStatusLine(`GET /${BUCKET} HTTP/1.1\r\nHost: ${host}\r\nHost: evil.example\r\nConnection: close\r\n\r\n`);
    expect(twice).toMatch(/^HTTP\/1\.1 400 /);
    expect(await send(await signed({ method: 'GET', target: `/${BUCKET}?list-type=2` }))).toMatchObject({ status: 200 });
    const localhost = `localhost:${port}`;
    const viaLocalhost = await signed({ method: 'GET', target: `/${BUCKET}?list-type=2` }, { headers: { host: localhost } });
    expect(await send({ ...viaLocalhost, headers: { ...viaLocalhost.headers, host: localhost } })).toMatchObject({ status: 200 });
  });
});

describe('keys', () => {
  it.each([
    `/${BUCKET}/a/../../../../../escaped-dotdot`,
    `/${BUCKET}/..%2F..%2F..%2F..%2Fescaped-encoded`,
    `/${BUCKET}/a/%2e%2e/%2e%2e/%2E%2E/escaped-percent-dots`,
    `/${BUCKET}/a/./b`,
    `/${BUCKET}/a%5C..%5C..%5Cescaped-backslash`,
    `/${BUCKET}/nul%00.txt`,
    `/${BUCKET}/a//b`,
    `/${BUCKET}/x._S3rver_metadata.json`,
    `/${BUCKET}/._S3rver_uploads/x`,
    `/%2e%2e/escaped-bucket`,
  ])('refuses %s signed correctly with 400, and writes nothing outside the bucket', async (target) => {
    const before = await filesUnder(outer);
    const answer = await send(await signed({ method: 'PUT', target, body: 'traversal' }));
    expect(answer.status).toBe(400);
    expect(['InvalidArgument', 'InvalidBucketName']).toContain(answer.code);
    expect(await filesUnder(outer)).toEqual(before);
  });

  it('refuses a form POST whose policy leaves the key open (starts-with) to a key that leaves the bucket', async () => {
    // The SDK's createPresignedPost makes a key ending in ${filename} a starts-with condition (Postbox's signer never does).
    const client = createSigningClient({ region: 'us-east-1', endpoint, forcePathStyle: true, credentials: EMBEDDED_CREDENTIALS });
    const policy = await createPresignedPost(client, { Bucket: BUCKET, Key: 'uploads/${filename}', Expires: 600 });
    const post = (key: string, extra: Record<string, string> = {}) => {
      const form = new FormData();
      for (const [name, value] of Object.entries({ ...policy.fields, key, ...extra })) form.append(name, value);
      form.append('file', new Blob(['form traversal']), 'file');
      return fetch(policy.url, { method: 'POST', body: form }).then(async (r) => ({
        status: r.status,
        code: /<Code>([^<]+)</.exec(await r.text())?.[1],
      }));
    };
    const before = await filesUnder(outer);
    expect(await post('uploads/../../../../../escaped-form')).toEqual({ status: 400, code: 'InvalidArgument' });
    expect(await filesUnder(outer)).toEqual(before);
    expect(await post('uploads/fine.txt', { 'x-ignore-padding': 'x'.repeat(30_000) })).toEqual({
      status: 400,
      code: 'MaxPostPreDataLengthExceededError',
    });
    expect(await post('uploads/fine.txt')).toEqual({ status: 204, code: undefined });
  });

  it('refuses a DeleteObjects key that leaves the bucket', async () => {
    const body = `<Delete><Object><Key>../../escaped.txt</Key></Object></Delete>`;
    expect(await send(await signed({ method: 'POST', target: `/${BUCKET}?delete`, body }))).toMatchObject({
      status: 400,
      code: 'InvalidArgument',
    });
    await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'doomed.txt', Body: 'x' }));
    const good = await send(
      await signed({ method: 'POST', target: `/${BUCKET}?delete`, body: '<Delete><Object><Key>doomed.txt</Key></Object></Delete>' }),
    );
    expect(good.status).toBe(200);
    expect(good.body).toContain('<Deleted><Key>doomed.txt</Key></Deleted>');
  });
});

describe('bodies', () => {
  const complete = async (body: string) => {
    const { UploadId } = await client.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: 'hostile.bin' }));
    return send(await signed({ method: 'POST', target: `/${BUCKET}/hostile.bin?uploadId=${UploadId}`, body }));
  };

  it('parses a 2 MB hostile Complete body in linear time: 400 MalformedXML', async () => {
    const started = performance.now();
    for (const hostile of [
      '<Part>'.repeat(330_000),
      '<Part><PartNumber>1</PartNumber><ETag>'.repeat(50_000),
      `<Part a="${'b'.repeat(2_000_000)}`,
    ]) {
      expect(await complete(`<CompleteMultipartUpload>${hostile}`)).toMatchObject({ status: 400, code: 'MalformedXML' });
    }
    console.info(`three 2 MB hostile Complete bodies: ${Math.round(performance.now() - started)} ms`);
  });

  it('refuses a Complete body over 2.5 MiB: 400 MaxMessageLengthExceeded', async () => {
    expect(await complete(`<CompleteMultipartUpload>${' '.repeat(3 * 1024 * 1024)}</CompleteMultipartUpload>`)).toMatchObject({
      status: 400,
      code: 'MaxMessageLengthExceeded',
    });
  });

  it('bounds a CORS document to 64 KiB', async () => {
    const rule = '<CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod></CORSRule>';
    const big = `<CORSConfiguration>${rule.repeat(1000)}</CORSConfiguration>`;
    expect(await send(await signed({ method: 'PUT', target: `/${BUCKET}?cors`, body: big }))).toMatchObject({
      status: 400,
      code: 'MaxMessageLengthExceeded',
    });
  });
});

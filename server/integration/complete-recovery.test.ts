import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, request, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { api, type MultipartUpload, type PartUrls } from '../../contract/api.ts';
import { EMBEDDED_CREDENTIALS, startEmbeddedS3, type EmbeddedS3 } from '../storage/embedded-s3.ts';
import { freePort } from './free-port.ts';
import { startTestPostbox, type TestPostbox } from './harness.ts';

const MiB = 1024 * 1024;
const BUCKET = 'complete-recovery';
const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

let s3Dir: string;
let s3: EmbeddedS3;
let proxy: Server;
let app: TestPostbox;
/** CompleteMultipartUpload requests the proxy saw, and whether their answer reached Postbox. */
const completes: Array<{ status: number; answered: boolean }> = [];
/** While set, the proxy answers every HEAD with 503, as storage having a bad moment. */
let failHeads = false;

/**
 * Between Postbox and a real (embedded) S3: passes everything through, except that the answer to the
 * first CompleteMultipartUpload is thrown away once storage has sent it, the connection cut instead.
 * Storage has joined the parts by then; Postbox sees only a broken connection.
 */
function startLossyProxy(upstreamPort: number, port: number): Promise<Server> {
  const server = createServer((req, res) => {
    if (failHeads && req.method === 'HEAD') {
      res.writeHead(503).end();
      return;
    }
    const isComplete = req.method === 'POST' && /[?&]uploadId=/.test(req.url ?? '');
    const upstream = request(
      { host: '127.0.0.1', port: upstreamPort, method: req.method, path: req.url, headers: req.headers },
      (answer) => {
        if (isComplete && completes.length === 0) {
          completes.push({ status: answer.statusCode ?? 0, answered: false });
          answer.resume();
          answer.on('end', () => req.socket.destroy());
          return;
        }
        if (isComplete) completes.push({ status: answer.statusCode ?? 0, answered: true });
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  return new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve(server)));
}

beforeAll(async () => {
  s3Dir = await mkdtemp(path.join(tmpdir(), 'postbox-complete-'));
  const s3Port = await freePort();
  const proxyPort = await freePort();
  // Postbox signs for the proxy's host, which the proxy passes on.
  s3 = await startEmbeddedS3({ dataDir: s3Dir, port: s3Port, bucket: BUCKET, isServedHost: (host) => host === `127.0.0.1:${proxyPort}` });
  proxy = await startLossyProxy(s3Port, proxyPort);
  process.env.AWS_ACCESS_KEY_ID = EMBEDDED_CREDENTIALS.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY = EMBEDDED_CREDENTIALS.secretAccessKey;
  app = await startTestPostbox({
    S3_BUCKET: BUCKET,
    S3_ENDPOINT: `http://127.0.0.1:${proxyPort}`,
    S3_FORCE_PATH_STYLE: 'true',
    MULTIPART_THRESHOLD_BYTES: String(8 * MiB),
    MULTIPART_PART_BYTES: String(8 * MiB),
  });
});

afterAll(async () => {
  await app?.stop();
  proxy?.closeAllConnections();
  await new Promise((resolve) => proxy?.close(resolve));
  await s3?.stop();
  await rm(s3Dir, { recursive: true, force: true });
});

it('a multipart upload whose Complete answer is lost on the way back, to Postbox or to the browser, still counts as done, bytes equal', async () => {
  const bytes = randomBytes(9 * MiB + 123); // two parts: 8 MiB and the rest
  const created = await app.call('POST', api.multipartUploads, {
    name: 'lost-answer.bin',
    size: bytes.length,
    type: 'application/octet-stream',
  });
  expect(created.status).toBe(201);
  const upload = created.body as MultipartUpload;
  expect(upload.partCount).toBe(2);

  const signed = await app.call('POST', api.multipartSign, { uploadToken: upload.uploadToken, partNumbers: [1, 2] });
  expect(signed.status).toBe(200);
  const parts = await Promise.all(
    (signed.body as PartUrls).urls.map(async ({ partNumber, url }) => {
      const body = bytes.subarray((partNumber - 1) * upload.partSize, partNumber * upload.partSize);
      const response = await fetch(url, { method: 'PUT', body });
      expect(response.status).toBe(200);
      return { partNumber, etag: response.headers.get('etag')! };
    }),
  );

  const completed = await app.call('POST', api.multipartComplete, { uploadToken: upload.uploadToken, parts });
  // Storage completed the first attempt and its answer was lost: any retry finds the upload id gone.
  expect(completes[0]).toEqual({ status: 200, answered: false });
  expect(completes.slice(1).every((c) => c.status === 404)).toBe(true);
  expect([completed.status, completed.body]).toEqual([200, { key: upload.key, size: bytes.length }]);
  // The browser's answer can be lost too: it asks again, and the upload counts as done again.
  const again = await app.call('POST', api.multipartComplete, { uploadToken: upload.uploadToken, parts });
  expect([again.status, again.body]).toEqual([200, { key: upload.key, size: bytes.length }]);
  // If storage cannot say whether the object is there, that is a 503 to retry, never "it is gone".
  failHeads = true;
  const unsure = await app.call('POST', api.multipartComplete, { uploadToken: upload.uploadToken, parts });
  failHeads = false;
  expect([unsure.status, unsure.body.error.code]).toEqual([503, 'storage_unavailable']);

  const object = await app.storage.client.send(new GetObjectCommand({ Bucket: BUCKET, Key: upload.key }));
  expect(sha256(await object.Body!.transformToByteArray())).toBe(sha256(bytes));
});

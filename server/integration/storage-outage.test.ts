import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { api } from '../http/contract.ts';
import { EMBEDDED_CREDENTIALS, startEmbeddedS3, type EmbeddedS3 } from '../storage/embedded-s3.ts';
import { postThroughPolicy, startTestPostbox, type TestPostbox } from './harness.ts';

async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

let s3Dir: string;
let port: number;
let s3: EmbeddedS3 | undefined;
let app: TestPostbox;
const startS3 = async () => {
  s3 = await startEmbeddedS3({ dataDir: s3Dir, port, bucket: 'outage-test', corsOrigins: ['*'] });
};

beforeAll(async () => {
  s3Dir = await mkdtemp(path.join(tmpdir(), 'postbox-outage-'));
  port = await freePort();
  await startS3();
  // Postbox sees this S3 as external storage (credentials from the SDK's default chain: the environment).
  process.env.AWS_ACCESS_KEY_ID = EMBEDDED_CREDENTIALS.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY = EMBEDDED_CREDENTIALS.secretAccessKey;
  app = await startTestPostbox({
    S3_BUCKET: 'outage-test',
    S3_ENDPOINT: `http://127.0.0.1:${port}`,
    S3_FORCE_PATH_STYLE: 'true',
    S3_TIMEOUT_MS: '2000',
    S3_MAX_ATTEMPTS: '2',
  });
});

afterAll(async () => {
  await app?.stop();
  await s3?.stop();
  await rm(s3Dir, { recursive: true, force: true });
});

it('answers 503 while storage is down and recovers by itself when it returns', async () => {
  expect((await app.call('GET', api.files)).status).toBe(200);

  await s3!.stop();
  s3 = undefined;
  const started = Date.now();
  const list = await app.call('GET', api.files);
  expect(list.status).toBe(503);
  expect(list.body.error.code).toBe('storage_unavailable');
  expect(Date.now() - started).toBeLessThan(10_000);

  const health = await app.call('GET', api.health);
  expect(health.status).toBe(503);
  expect(health.body).toMatchObject({ status: 'unavailable', storage: { reachable: false, mode: 'external' } });

  // Signing needs no storage round trip: links are still signed while storage is down.
  const link = await app.call('POST', api.fileLink('uploads/0000000000a-0123456789abcdef/text/plain/a.txt'), { expiresIn: 60 });
  expect(link.status).toBe(201);

  await startS3();
  expect((await app.call('GET', api.health)).status).toBe(200);
  const signed = await app.call('POST', api.uploads, { name: 'back.txt', size: 4, type: 'text/plain' });
  expect(signed.status).toBe(201);
  expect((await postThroughPolicy(signed.body, Buffer.from('back'))).status).toBe(204);
  const after = await app.call('GET', api.files);
  expect(after.body.files.map((f: { name: string }) => f.name)).toContain('back.txt');
});

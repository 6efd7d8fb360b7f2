import { mkdtemp, rm } from 'node:fs/promises';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { api } from '../../contract/api.ts';
import { EMBEDDED_CREDENTIALS, startEmbeddedS3, type EmbeddedS3 } from '../storage/embedded-s3.ts';
import { freePort } from './free-port.ts';
import { postThroughPolicy, startTestPostbox, type TestPostbox } from './harness.ts';

let s3Dir: string;
let port: number;
let s3: EmbeddedS3 | undefined;
let app: TestPostbox;
const startS3 = async () => {
  s3 = await startEmbeddedS3({ dataDir: s3Dir, port, bucket: 'outage-test' });
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

  const t0 = Date.now();
  const timeline: string[] = [];
  const mark = (what: string) => timeline.push(`${Date.now() - t0} ms ${what}`);
  await s3!.stop();
  s3 = undefined;
  mark('storage stopped');
  const started = Date.now();
  const list = await app.call('GET', api.files);
  mark(`GET /api/files → ${list.status} ${list.body.error?.code}`);
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
  mark('storage started again');
  expect((await app.call('GET', api.health)).status).toBe(200);
  mark('health → 200 (no restart of Postbox)');
  const signed = await app.call('POST', api.uploads, { name: 'back.txt', size: 4, type: 'text/plain' });
  expect(signed.status).toBe(201);
  expect((await postThroughPolicy(signed.body, Buffer.from('back'))).status).toBe(204);
  const after = await app.call('GET', api.files);
  expect(after.body.files.map((f: { name: string }) => f.name)).toContain('back.txt');
  mark('upload through the API works again');
  console.log(`storage outage timeline:\n  ${timeline.join('\n  ')}`);
});

it('answers 503 within the configured timeout when storage accepts connections but never answers', async () => {
  const sockets = new Set<import('node:net').Socket>();
  const silent = createServer((socket) => sockets.add(socket)).listen(0, '127.0.0.1');
  await once(silent, 'listening');
  const slow = await startTestPostbox({
    S3_BUCKET: 'outage-test',
    S3_ENDPOINT: `http://127.0.0.1:${(silent.address() as { port: number }).port}`,
    S3_FORCE_PATH_STYLE: 'true',
    S3_TIMEOUT_MS: '500',
    S3_MAX_ATTEMPTS: '2',
  });
  try {
    const started = Date.now();
    const list = await slow.call('GET', api.files);
    const elapsed = Date.now() - started;
    console.log(`silent storage: GET /api/files → ${list.status} after ${elapsed} ms (timeout 500 ms × 2 attempts)`);
    expect([list.status, list.body.error.code]).toEqual([503, 'storage_unavailable']);
    expect(elapsed).toBeLessThan(5000);
  } finally {
    await slow.stop();
    for (const socket of sockets) socket.destroy();
    silent.close();
  }
});

it('answers 503 when storage refuses the credentials or the bucket is missing', async () => {
  // s3rver checks the access key id but never a SigV4 signature: an unknown key is what it refuses.
  for (const { bucket, accessKeyId } of [
    { bucket: 'outage-test', accessKeyId: 'UNKNOWNKEY' },
    { bucket: 'no-such-bucket', accessKeyId: EMBEDDED_CREDENTIALS.accessKeyId },
  ]) {
    // Credentials come from the SDK's default chain, read at the first S3 call.
    process.env.AWS_ACCESS_KEY_ID = accessKeyId;
    const refused = await startTestPostbox({ S3_BUCKET: bucket, S3_ENDPOINT: `http://127.0.0.1:${port}`, S3_FORCE_PATH_STYLE: 'true' });
    const env = { bucket, accessKeyId };
    try {
      const list = await refused.call('GET', api.files);
      expect([list.status, list.body.error.code], JSON.stringify(env)).toEqual([503, 'storage_unavailable']);
      expect((await refused.call('GET', api.health)).status).toBe(503);
    } finally {
      process.env.AWS_ACCESS_KEY_ID = EMBEDDED_CREDENTIALS.accessKeyId;
      await refused.stop();
    }
  }
});

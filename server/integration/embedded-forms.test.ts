import { mkdtemp, readdir, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, type UploadPolicy } from '../../contract/api.ts';
import { startTestPostbox, type TestPostbox } from './harness.ts';

/**
 * The embedded store's POST-policy check (storage/embedded-post-policy.ts) parses each form before
 * s3rver does. Forms built to read one way to the check and another way to s3rver must store only
 * what was checked; a form cut off half-way must store nothing.
 */

let app: TestPostbox;
let dataDir: string;
beforeAll(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'postbox-forms-'));
  app = await startTestPostbox({ POSTBOX_DATA_DIR: dataDir, RATE_LIMIT_PER_MINUTE: '0' });
});
afterAll(async () => {
  await app?.stop();
  await rm(dataDir, { recursive: true, force: true });
});

const policyFor = async (name: string, size: number) => {
  const signed = await app.call('POST', api.uploads, { name, size, type: 'text/plain' });
  expect(signed.status).toBe(201);
  return signed.body as UploadPolicy;
};
const stored = async (key: string) => {
  const object = await app.storage.client.send(new GetObjectCommand({ Bucket: app.storage.bucket, Key: key })).catch(() => undefined);
  return object ? Buffer.from(await object.Body!.transformToByteArray()).toString() : undefined;
};

/** A multipart body by hand: each part's name, bytes and extra header lines. */
function rawForm(boundary: string, parts: { name: string; body: Buffer; headers?: string }[]): Buffer {
  return Buffer.concat([
    ...parts.flatMap(({ name, body, headers = '' }) => [
      Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${name}"${headers}\r\n\r\n`),
      body,
      Buffer.from('\r\n'),
    ]),
    Buffer.from(`--${boundary}--\r\n`),
  ]);
}

describe('forms that s3rver would read differently from the policy check', () => {
  it('a second key field differing only in case: the checked key is stored, the other is not', async () => {
    const policy = await policyFor('case.txt', 5);
    const forged = `${policy.key.slice(0, policy.key.lastIndexOf('/'))}/forged.txt`;
    const form = new FormData();
    form.append('key', forged);
    for (const [name, value] of Object.entries(policy.fields)) form.append(name === 'key' ? 'KEY' : name, value);
    form.append('file', new Blob(['hello']), 'case.txt');
    const response = await fetch(policy.url, { method: 'POST', body: form });
    expect(response.status).toBe(204);
    expect(await stored(forged)).toBeUndefined();
    expect(await stored(policy.key)).toBe('hello');
  });

  it.each(['X-Amz-Signature', 'bucket'])(
    'a %s field whose value, decoded from UTF-16, holds the boundary and a forged key and file: refused, nothing stored',
    async (carrier) => {
      const policy = await policyFor('injected.txt', 5);
      const forged = 'shares/links/FORGED-0123456789abcdefghij.json';
      const boundary = 'postbox-test-boundary';
      const prefix = carrier === 'bucket' ? 'postbox' : policy.fields['X-Amz-Signature']!;
      const injected = `${prefix}\r\n--${boundary}\r\nContent-Disposition: form-data; name="key"\r\n\r\n${forged}\r\n--${boundary}\r\nContent-Disposition: form-data; name="file"\r\nContent-Type: text/plain\r\n\r\n{"evil":true}`;
      const fields = Object.entries(policy.fields).filter(([name]) => name !== carrier);
      const body = rawForm(boundary, [
        ...fields.map(([name, value]) => ({ name, body: Buffer.from(value) })),
        { name: carrier, body: Buffer.from(injected, 'utf16le'), headers: '\r\nContent-Type: text/plain; charset=utf-16le' },
        { name: 'file', body: Buffer.from('hello'), headers: '; filename="injected.txt"\r\nContent-Type: text/plain' },
      ]);
      const response = await fetch(policy.url, {
        method: 'POST',
        body: new Uint8Array(body),
        headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
      });
      expect(response.status).toBe(403);
      expect(await stored(forged)).toBeUndefined();
      expect(await stored(policy.key)).toBeUndefined();
    },
  );

  it('a "file" part without a filename before the real file: only the checked file is stored, under the checked key', async () => {
    const policy = await policyFor('two-files.txt', 5);
    const forged = `${policy.key.slice(0, policy.key.lastIndexOf('/'))}/forged.txt`;
    const form = new FormData();
    for (const [name, value] of Object.entries(policy.fields)) if (name !== 'key') form.append(name, value);
    form.append('key', forged);
    form.append('file', 'x'.repeat(100_000)); // a plain field to one parser, the file to the other
    form.append('key', policy.key);
    form.append('file', new Blob(['hello']), 'two-files.txt');
    const response = await fetch(policy.url, { method: 'POST', body: form });
    expect(response.status).toBe(204);
    expect(await stored(forged)).toBeUndefined();
    expect(await stored(policy.key)).toBe('hello');
  });
});

it('a form cut off half-way stores nothing and leaves nothing behind', async () => {
  const policy = await policyFor('cut.txt', 1000);
  const form = new FormData();
  for (const [name, value] of Object.entries(policy.fields)) form.append(name, value);
  form.append('file', new Blob(['y'.repeat(1000)]), 'cut.txt');
  const request = new Request(policy.url, { method: 'POST', body: form });
  const body = Buffer.from(await request.arrayBuffer());
  const url = new URL(policy.url);
  const socket = net.connect(Number(url.port), url.hostname);
  await new Promise((resolve) => socket.once('connect', resolve));
  socket.write(
    `POST ${url.pathname} HTTP/1.1\r\nHost: ${url.host}\r\nContent-Type: ${request.headers.get('content-type')}\r\nContent-Length: ${body.length}\r\n\r\n`,
  );
  socket.write(body.subarray(0, body.length - 400));
  const incoming = () => readdir(path.join(dataDir, 'incoming'));
  await expect.poll(incoming).toHaveLength(1); // the file part is being received
  socket.destroy();
  await expect.poll(incoming).toEqual([]);
  expect(await stored(policy.key)).toBeUndefined();
  // The store still answers.
  const next = await policyFor('after.txt', 2);
  const form2 = new FormData();
  for (const [name, value] of Object.entries(next.fields)) form2.append(name, value);
  form2.append('file', new Blob(['ok']), 'after.txt');
  expect((await fetch(next.url, { method: 'POST', body: form2 })).status).toBe(204);
});

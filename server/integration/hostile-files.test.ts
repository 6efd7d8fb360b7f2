import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { parse as parseDisposition } from 'content-disposition';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, type UploadPolicy } from '../../contract/api.ts';
import { postThroughPolicy, startTestPostbox, type TestPostbox } from './harness.ts';

let app: TestPostbox;
beforeAll(async () => {
  app = await startTestPostbox();
});
afterAll(() => app?.stop());

it.each([
  ['page.html', 'text/html', '<script>alert(document.domain)</script>'],
  ['drawing.svg', 'image/svg+xml', '<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>'],
  ['feed.xml', 'application/xml', '<?xml version="1.0"?><x/>'],
  ['app.js', 'text/javascript', 'alert(1)'],
])('%s (%s) is stored and downloaded as an opaque attachment, never rendered', async (name, type, content) => {
  const signed = await app.call('POST', api.uploads, { name, size: Buffer.byteLength(content), type });
  expect(signed.status).toBe(201);
  const policy = signed.body as UploadPolicy;
  expect(policy.fields['Content-Type']).toBe('application/octet-stream');
  expect(policy.key).toContain(`/${type}/`); // the listing still shows what it is
  expect((await postThroughPolicy(policy, Buffer.from(content))).status).toBe(204);

  const stored = await app.storage.client.send(new HeadObjectCommand({ Bucket: app.storage.bucket, Key: policy.key }));
  expect(stored.ContentType).toBe('application/octet-stream');

  const link = await app.call('POST', api.fileLink(policy.key), { expiresIn: 600 });
  const download = await fetch(link.body.url);
  expect(download.status).toBe(200);
  expect(download.headers.get('content-type')).toBe('application/octet-stream');
  expect(download.headers.get('content-disposition')).toMatch(/^attachment;/);
  expect(await download.text()).toBe(content);

  const listed = await app.call('GET', `${api.files}?limit=1000`);
  expect(listed.body.files.find((f: { key: string }) => f.key === policy.key)).toMatchObject({ name, type });
});

describe('hostile names go through the whole path: signed, posted, listed, downloaded under a clean name', () => {
  it.each([
    ['${filename}', '_{filename}'],
    ['$key', '$key'],
    ['../../shares/links/x.json', '.._.._shares_links_x.json'],
    ['%2e%2e/%2e%2e/x', '%2e%2e_%2e%2e_x'],
    ['a\u0000b.txt', 'ab.txt'],
    ['invoice\u202Efdp.exe', 'invoicefdp.exe'],
    ['CON', 'CON'],
    ['.htaccess', '.htaccess'],
    ['..', 'file'],
  ])('%j is stored as %j, at exactly its own key', async (name, expected) => {
    const signed = await app.call('POST', api.uploads, { name, size: 3, type: 'text/plain' });
    expect(signed.status).toBe(201);
    const policy = signed.body as UploadPolicy;
    expect(policy.key.endsWith(`/text/plain/${expected}`)).toBe(true);
    expect((await postThroughPolicy(policy, Buffer.from('abc'))).status).toBe(204);
    const listed = await app.call('GET', `${api.files}?limit=1000`);
    expect(listed.body.files.find((f: { key: string }) => f.key === policy.key)).toMatchObject({ name: expected, size: 3 });
    const link = await app.call('POST', api.fileLink(policy.key), { expiresIn: 600 });
    const download = await fetch(link.body.url);
    expect(await download.text()).toBe('abc');
    expect(parseDisposition(download.headers.get('content-disposition')!).parameters.filename).toBe(expected);
  });

  it('cuts 3,000 bytes of UTF-8 (1,000 characters) to 200 bytes of whole characters', async () => {
    const signed = await app.call('POST', api.uploads, { name: '名'.repeat(1000), size: 3, type: 'text/plain' });
    expect(signed.body.key.endsWith(`/text/plain/${'名'.repeat(66)}`)).toBe(true);
    expect((await postThroughPolicy(signed.body, Buffer.from('abc'))).status).toBe(204);
  });

  it('refuses 10 kB of UTF-8 in a name (over 1,024 characters): 400', async () => {
    const answer = await app.call('POST', api.uploads, { name: 'é'.repeat(5000), size: 3, type: 'text/plain' });
    expect([answer.status, answer.body.error.code]).toEqual([400, 'invalid_request']);
  });
});

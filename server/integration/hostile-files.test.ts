import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, expect, it } from 'vitest';
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

import { afterAll, beforeAll, expect, it } from 'vitest';
import { api, type UploadPolicy } from '../../contract/api.ts';
import { postThroughPolicy, startTestPostbox, type TestPostbox } from './harness.ts';

/** A name ending in ${filename} (S3's placeholder in a POST's key) must still sign exactly one key. */

let app: TestPostbox;
beforeAll(async () => {
  app = await startTestPostbox();
});
afterAll(() => app?.stop());

it('refuses a POST whose key differs from the signed one, for a file named ${filename}', async () => {
  const signed = await app.call('POST', api.uploads, { name: '${filename}', size: 3, type: 'text/plain' });
  expect(signed.status).toBe(201);
  const policy: UploadPolicy = signed.body;
  expect(policy.key.endsWith('/${filename}')).toBe(true);

  const elsewhere = { ...policy, fields: { ...policy.fields, key: policy.key.replace('${filename}', 'other.html') } };
  expect((await postThroughPolicy(elsewhere, new TextEncoder().encode('abc'))).status).toBe(403);
});

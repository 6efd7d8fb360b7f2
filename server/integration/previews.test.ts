import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, PREVIEW_LINK_SECONDS, type UploadPolicy } from '../../contract/api.ts';
import { spaceFor } from '../people/person.ts';
import { newUploadKey } from '../signing/object-keys.ts';
import { postThroughPolicy, startTestPostbox, type TestPostbox } from './harness.ts';

let app: TestPostbox;

beforeAll(async () => {
  app = await startTestPostbox({ MAX_UPLOAD_BYTES: String(64 * 1024), RATE_LIMIT_PER_MINUTE: '0' });
});
afterAll(() => app?.stop());

async function upload(name: string, bytes: Uint8Array, type: string): Promise<UploadPolicy> {
  const signed = await app.call('POST', api.uploads, { name, size: bytes.length, type });
  expect(signed.status).toBe(201);
  expect((await postThroughPolicy(signed.body, bytes, name)).status).toBe(204);
  return signed.body;
}

describe('previews in the own list', () => {
  it('signs a short inline GET for an image that downloads its bytes', async () => {
    const bytes = randomBytes(3000);
    const { key } = await upload('photo.png', bytes, 'image/png');
    const before = Date.now();
    const preview = await app.call('POST', api.filePreview(key));
    expect(preview.status).toBe(201);
    expect(preview.body.kind).toBe('image');
    const url = new URL(preview.body.url);
    expect(url.searchParams.get('response-content-disposition')).toMatch(/^inline; filename="?photo\.png"?$/);
    expect(url.searchParams.get('response-content-type')).toBe('image/png');
    expect(url.searchParams.get('X-Amz-Expires')).toBe(String(PREVIEW_LINK_SECONDS));
    expect(Date.parse(preview.body.expiresAt) - before).toBeLessThanOrEqual(PREVIEW_LINK_SECONDS * 1000 + 1000);

    const got = await fetch(preview.body.url);
    expect(got.status).toBe(200);
    expect(got.headers.get('content-disposition')).toMatch(/^inline/);
    expect(got.headers.get('content-type')).toBe('image/png');
    expect(Buffer.from(await got.arrayBuffer()).equals(bytes)).toBe(true);
  });

  it('answers 400 not_previewable for SVG, HTML and other types, with no URL', async () => {
    const files = [
      ['draw.svg', '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', 'image/svg+xml'],
      ['page.html', '<script>alert(1)</script>', 'text/html'],
      ['data.xml', '<a/>', 'application/xml'],
      ['notes.txt', 'hello', 'text/plain'],
    ] as const;
    for (const [name, text, type] of files) {
      const { key } = await upload(name, Buffer.from(text), type);
      const preview = await app.call('POST', api.filePreview(key));
      expect(preview.status, name).toBe(400);
      expect(preview.body.error.code).toBe('not_previewable');
      expect(JSON.stringify(preview.body)).not.toContain('http');
    }
  });

  it("answers 404 for another person's key, and for a key that is no upload key", async () => {
    const theirs = newUploadKey('photo.png', 'image/png', Date.now(), spaceFor('0123456789abcdef0123456789abcdef'));
    const preview = await app.call('POST', api.filePreview(theirs));
    expect(preview.status).toBe(404);
    expect(preview.body.error.code).toBe('not_found');
    const bogus = await app.call('POST', api.filePreview('../etc/passwd'));
    expect(bogus.status).toBe(400); // as for every route taking a key: not one the server could have made
    expect(bogus.body.error.code).toBe('invalid_request');
  });
});

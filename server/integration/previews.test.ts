import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, PREVIEW_LINK_SECONDS, THUMBNAIL_MAX_BYTES, type UploadPolicy } from '../../contract/api.ts';
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

describe('thumbnails', () => {
  it("takes a thumbnail through its own policy under a key derived from the file's, and signs inline GETs in one call", async () => {
    const { key } = await upload('photo.jpg', randomBytes(2000), 'image/jpeg');
    const { key: other } = await upload('other.png', randomBytes(100), 'image/png');
    const thumb = randomBytes(1234);
    const signed = await app.call('POST', api.fileThumbnail(key), { size: thumb.length, type: 'image/webp' });
    expect(signed.status).toBe(201);
    expect(signed.body.key).toBe(`thumbs/${key.split('/')[1]}`);
    expect(signed.body.fields['Content-Type']).toBe('image/webp');
    // Storage holds the policy to its size and type.
    expect((await postThroughPolicy(signed.body, randomBytes(1235))).status).toBe(400);
    const wrongType = { ...signed.body, fields: { ...signed.body.fields, 'Content-Type': 'text/html' } };
    expect((await postThroughPolicy(wrongType, thumb)).status).toBe(403);
    expect((await postThroughPolicy(signed.body, thumb)).status).toBe(204);

    const urls = await app.call('POST', api.thumbnails, { keys: [key, other] });
    expect(urls.status).toBe(200);
    const got = await fetch(urls.body.urls[key]);
    expect(got.status).toBe(200);
    expect(got.headers.get('content-type')).toBe('image/webp');
    expect(got.headers.get('content-disposition')).toBe('inline');
    expect(Buffer.from(await got.arrayBuffer()).equals(thumb)).toBe(true);
    expect((await fetch(urls.body.urls[other])).status).toBe(404); // none drawn: the page shows no thumbnail
    // The listing shows files only, not thumbnails.
    const list = await app.call('GET', api.files);
    expect(list.body.files.map((f: { key: string }) => f.key)).not.toContain(signed.body.key);

    // Deleting the file deletes its thumbnail.
    expect((await app.call('DELETE', api.file(key))).status).toBe(204);
    expect((await fetch(urls.body.urls[key])).status).toBe(404);
  });

  it('refuses other types, sizes, thumbnail types and keys', async () => {
    const { key } = await upload('photo.png', randomBytes(100), 'image/png');
    const { key: svg } = await upload('draw.svg', Buffer.from('<svg/>'), 'image/svg+xml');
    const theirs = newUploadKey('photo.png', 'image/png', Date.now(), spaceFor('0123456789abcdef0123456789abcdef'));
    const cases: [string, unknown, number][] = [
      [api.fileThumbnail(key), { size: THUMBNAIL_MAX_BYTES + 1, type: 'image/webp' }, 400],
      [api.fileThumbnail(key), { size: 100, type: 'image/svg+xml' }, 400],
      [api.fileThumbnail(key), { size: 100, type: 'image/png' }, 400],
      [api.fileThumbnail(svg), { size: 100, type: 'image/webp' }, 400],
      [api.fileThumbnail(theirs), { size: 100, type: 'image/webp' }, 404],
      [api.thumbnails, { keys: [key, theirs] }, 404],
      [api.thumbnails, { keys: [svg] }, 400],
      [api.thumbnails, { keys: Array.from({ length: 101 }, () => key) }, 400],
    ];
    for (const [path, body, status] of cases) {
      const answer = await app.call('POST', path, body);
      expect(answer.status, `${path} ${JSON.stringify(body).slice(0, 80)}`).toBe(status);
      expect(JSON.stringify(answer.body)).not.toContain('http');
    }
  });
});

describe('previews and thumbnails behind the password', () => {
  it('refuses all three routes without a session or token: 401', async () => {
    const locked = await startTestPostbox({ POSTBOX_PASSWORD: 'correct horse battery staple', RATE_LIMIT_PER_MINUTE: '0' });
    try {
      const key = newUploadKey('a.png', 'image/png');
      for (const [path, body] of [
        [api.filePreview(key), undefined],
        [api.fileThumbnail(key), { size: 100, type: 'image/webp' }],
        [api.thumbnails, { keys: [key] }],
      ] as const) {
        const answer = await locked.call('POST', path, body);
        expect([answer.status, answer.body.error.code], path).toEqual([401, 'unauthorized']);
      }
    } finally {
      await locked.stop();
    }
  });
});

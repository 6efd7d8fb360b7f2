import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, type ShareLink, type UploadPolicy } from '../../contract/api.ts';
import { ListObjectsCommand } from '@aws-sdk/client-s3';
import { spaceFor } from '../people/person.ts';
import { S3ShareStore } from '../shares/s3-share-store.ts';
import { fileIndexPrefix, newShareId, parseMarker } from '../shares/share-record.ts';
import { liveShare } from '../shares/live-share.fixture.ts';
import { newUploadKey } from '../signing/object-keys.ts';
import { postThroughPolicy, startTestPostbox, type TestPostbox } from './harness.ts';

let app: TestPostbox;

beforeAll(async () => {
  app = await startTestPostbox({ MAX_UPLOAD_BYTES: String(64 * 1024), RATE_LIMIT_PER_MINUTE: '0' });
});
afterAll(() => app?.stop());

async function upload(name: string, bytes: Uint8Array, type = 'text/plain'): Promise<UploadPolicy> {
  const signed = await app.call('POST', api.uploads, { name, size: bytes.length, type });
  expect(signed.status).toBe(201);
  expect((await postThroughPolicy(signed.body, bytes, name)).status).toBe(204);
  return signed.body;
}

async function bundle(keys: string[], body: Record<string, unknown> = {}): Promise<ShareLink> {
  const created = await app.call('POST', api.shares, { keys, expiresIn: 24 * 3600, ...body });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  return created.body;
}

/** A browser on the page: keeps the visit cookie, does not follow redirects. */
function browser() {
  let cookie = '';
  const go = async (url: string, init: RequestInit = {}) => {
    const response = await fetch(url, { redirect: 'manual', ...init, headers: { ...(cookie && { cookie }), ...(init.headers as object) } });
    const set = response.headers.get('set-cookie');
    if (set) cookie = set.split(';')[0]!;
    return { status: response.status, headers: response.headers, body: await response.text() };
  };
  return {
    get: (url: string) => go(url, { headers: { accept: 'text/html', 'sec-fetch-dest': 'document', 'sec-fetch-site': 'none' } }),
    post: (url: string, form: Record<string, string>) =>
      go(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          'sec-fetch-site': 'same-origin',
          'sec-fetch-dest': 'document',
          accept: 'text/html',
        },
        body: new URLSearchParams(form).toString(),
      }),
    zip: (url: string, indexes: number[], site = 'same-origin') =>
      go(`${url}/zip`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'sec-fetch-site': site },
        body: JSON.stringify({ indexes }),
      }),
    forget: () => void (cookie = ''),
  };
}

const bytesOf = async (url: string) => new Uint8Array(await (await fetch(url)).arrayBuffer());

describe('bundles', () => {
  it('lists every file with its size and downloads each; a visit counts as one download', async () => {
    const contents = [randomBytes(1000), randomBytes(2000), randomBytes(3000)];
    const names = ['a.txt', '<b>x</b>.txt', 'CON.txt'];
    const keys = [];
    for (const [i, name] of names.entries()) keys.push((await upload(name, contents[i]!)).key);
    const link = await bundle(keys, { maxDownloads: 1 });
    expect(link).toMatchObject({ fileCount: 3, maxDownloads: 1, downloads: 0 });
    // Each file lists the bundle among its links.
    for (const key of keys) expect((await app.call('GET', api.fileShares(key))).body.shares.map((s: ShareLink) => s.id)).toContain(link.id);

    const visitor = browser();
    const page = await visitor.get(link.url);
    expect(page.status).toBe(200);
    expect(page.body.match(/<li class="row"/g)).toHaveLength(3);
    expect(page.body).toContain('&lt;b&gt;x&lt;_b&gt;.txt'); // the upload made its `/` a `_`
    expect(page.body).not.toContain('<b>');
    expect(page.body).toContain('data-zip-name="_CON.txt"');
    const csp = page.headers.get('content-security-policy')!;
    const nonce = /script-src 'nonce-([A-Za-z0-9+/=]+)'/.exec(csp)![1]!;
    expect(page.body).toContain(`<script type="module" nonce="${nonce}" src="/s/_/bundle-page.js"></script>`);
    expect(page.body.match(/<script/g)).toHaveLength(1);
    expect(csp).not.toContain('unsafe');

    // The first file of the visit counts; the others of the same visit do not.
    for (const index of [1, 0, 2]) {
      const posted = await visitor.post(link.url, { file: String(index) });
      expect(posted.status).toBe(303);
      expect(await bytesOf(posted.headers.get('location')!)).toEqual(new Uint8Array(contents[index]!));
    }
    const zip = await visitor.zip(link.url, [0, 1, 2]);
    expect(zip.status).toBe(200);
    const { urls } = JSON.parse(zip.body) as { urls: string[] };
    for (const [i, url] of urls.entries()) expect(await bytesOf(url)).toEqual(new Uint8Array(contents[i]!));
    expect((await app.call('GET', api.fileShares(keys[0]!))).body.shares.find((s: ShareLink) => s.id === link.id).downloads).toBe(1);

    // A new visit is a new download: the limit of 1 is used up.
    visitor.forget();
    expect((await visitor.post(link.url, { file: '0' })).status).toBe(410);
    expect((await visitor.zip(link.url, [0])).status).toBe(410);
  });

  it('refuses a zip request from another site and keys of another person', async () => {
    const key = (await upload('mine.txt', Buffer.from('mine'))).key;
    const link = await bundle([key]);
    expect((await browser().zip(link.url, [0], 'cross-site')).status).toBe(403);

    const theirs = newUploadKey('theirs.txt', 'text/plain', Date.now(), spaceFor('ab'.repeat(16)));
    const refused = await app.call('POST', api.shares, { keys: [key, theirs], expiresIn: 3600 });
    expect([refused.status, refused.body.error.code]).toEqual([404, 'not_found']);
    const many = await app.call('POST', api.shares, { keys: Array.from({ length: 1001 }, () => key), expiresIn: 3600 });
    expect(many.status).toBe(400);
    const missing = await app.call('POST', api.shares, { keys: [newUploadKey('gone.txt', 'text/plain')], expiresIn: 3600 });
    expect([missing.status, missing.body.error.code]).toEqual([404, 'not_found']);
  });

  it('shows a deleted file as gone, and removes the link with its last file', async () => {
    const keys = [(await upload('one.txt', Buffer.from('1'))).key, (await upload('two.txt', Buffer.from('2'))).key];
    const link = await bundle(keys);
    expect((await app.call('DELETE', api.file(keys[0]!))).status).toBe(204);
    const visitor = browser();
    const page = await visitor.get(link.url);
    expect(page.status).toBe(200);
    expect(page.body).toContain('Deleted by the sender');
    expect(page.body.match(/<li class="row"/g)).toHaveLength(1);
    expect((await visitor.post(link.url, { file: '0' })).status).toBe(410);
    const two = await visitor.post(link.url, { file: '1' });
    expect(new TextDecoder().decode(await bytesOf(two.headers.get('location')!))).toBe('2');

    expect((await app.call('DELETE', api.file(keys[1]!))).status).toBe(204);
    expect((await visitor.get(link.url)).status).toBe(404); // as a one-file link goes with its file
  });

  it('shows nothing of a password bundle until the password is given, and zips only after', async () => {
    const key = (await upload('secret-plan.txt', Buffer.from('plan'))).key;
    const link = await bundle([key], { password: 'correct horse' });
    const visitor = browser();
    const locked = await visitor.get(link.url);
    expect(locked.body).toContain('protected by a password');
    expect(locked.body).not.toContain('secret-plan');
    expect((await visitor.zip(link.url, [0])).status).toBe(403);
    expect((await visitor.post(link.url, { file: '0' })).status).toBe(400);
    expect((await visitor.post(link.url, { password: 'wrong password' })).status).toBe(403);
    const opened = await visitor.post(link.url, { password: 'correct horse' });
    expect([opened.status, opened.headers.get('location')]).toEqual([303, `/s/${link.id}`]);
    expect((await visitor.get(link.url)).body).toContain('secret-plan.txt');
    expect((await visitor.zip(link.url, [0])).status).toBe(200);
  });

  it('previews images inline, never SVG or HTML', async () => {
    const png = Buffer.from(
      '89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d4944415478da63f8cfc0f01f0005000201a5c2d1d40000000049454e44ae426082',
      'hex',
    );
    const keys = [
      (await upload('pic.png', png, 'image/png')).key,
      (await upload('draw.svg', Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'), 'image/svg+xml'))
        .key,
      (await upload('page.html', Buffer.from('<script>alert(1)</script>'), 'text/html')).key,
    ];
    const link = await bundle(keys);
    const page = await browser().get(link.url);
    const previews = [...page.body.matchAll(/<(?:img|video|audio) class="[^"]*" src="([^"]+)"/g)].map((m) =>
      m[1]!.replaceAll('&amp;', '&'),
    );
    expect(previews).toHaveLength(1);
    const url = new URL(previews[0]!);
    expect(url.pathname).toContain('pic.png');
    expect(url.searchParams.get('response-content-disposition')).toMatch(/^inline/);
    const shown = await fetch(previews[0]!);
    expect([shown.status, shown.headers.get('content-type')]).toEqual([200, 'image/png']);
    expect(shown.headers.get('content-disposition')).toMatch(/^inline/);
    expect(page.body).not.toMatch(/inline[^"]*draw\.svg|inline[^"]*page\.html/);
  });

  it('revokes a bundle for every file, and only its owner may', async () => {
    const keys = [(await upload('r1.txt', Buffer.from('1'))).key, (await upload('r2.txt', Buffer.from('2'))).key];
    const link = await bundle(keys);
    expect((await app.call('DELETE', api.share(link.id))).status).toBe(204);
    expect((await browser().get(link.url)).status).toBe(410);
    for (const key of keys) {
      const listed = await app.storage.client.send(new ListObjectsCommand({ Bucket: app.storage.bucket, Prefix: fileIndexPrefix(key) }));
      expect(listed.Contents!.map((o) => parseMarker(o.Key!))).toEqual([
        expect.objectContaining({ id: link.id, state: 'revoked', bundle: true }),
      ]);
    }

    // A link of another person (as accounts will make): 404, and it still works.
    const space = spaceFor('cd'.repeat(16));
    const theirs = { ...JSON.parse(JSON.stringify(link)), id: newShareId() };
    await new S3ShareStore(app.storage).create(
      liveShare({
        id: theirs.id,
        fileKey: keys[0]!,
        fileName: '1 file',
        files: [{ key: keys[0]!, name: 'r1.txt', size: 1, contentType: 'text/plain' }],
        owner: { id: 'cd'.repeat(16), space },
      }),
    );
    const refused = await app.call('DELETE', api.share(theirs.id));
    expect([refused.status, refused.body.error.code]).toEqual([404, 'not_found']);
    expect((await browser().get(`${app.url}/s/${theirs.id}`)).status).toBe(200);
  });
});

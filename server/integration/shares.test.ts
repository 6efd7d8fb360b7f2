import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DeleteObjectCommand, GetObjectCommand, ListObjectsCommand } from '@aws-sdk/client-s3';
import { parse as parseDisposition } from 'content-disposition';
import express from 'express';
import { pino, type Logger } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, SHARE_LINKS_PER_FILE, type ShareLink, type UploadPolicy } from '../../contract/api.ts';
import { createShareService, sharePageRoutes } from '../http/routes/shares.ts';
import { PASSWORD_THROTTLE, PasswordThrottle } from '../shares/password-throttle.ts';
import { S3ShareStore } from '../shares/s3-share-store.ts';
import {
  fileIndexPrefix,
  legacyRevokedIndexPrefix,
  liveMarkerKey,
  recordKey,
  SHARES_PREFIX,
  type LiveShare,
} from '../shares/share-record.ts';
import { recordStorageCalls } from '../shares/storage-calls.fixture.ts';
import { parseUploadKey } from '../signing/object-keys.ts';
import { postThroughPolicy, startTestPostbox, type TestPostbox } from './harness.ts';

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

let app: TestPostbox;

beforeAll(async () => {
  app = await startTestPostbox({ MAX_UPLOAD_BYTES: String(64 * 1024), RATE_LIMIT_PER_MINUTE: '0' });
});
afterAll(() => app?.stop());

async function upload(name: string, bytes: Uint8Array, type = 'text/plain', on = app): Promise<UploadPolicy> {
  const signed = await on.call('POST', api.uploads, { name, size: bytes.length, type });
  expect(signed.status).toBe(201);
  expect((await postThroughPolicy(signed.body, bytes, name)).status).toBe(204);
  return signed.body;
}

async function share(key: string, body: Record<string, unknown> = {}, on = app): Promise<ShareLink> {
  const created = await on.call('POST', api.fileShares(key), { expiresIn: 24 * 3600, ...body });
  expect(created.status).toBe(201);
  return created.body;
}

/** A browser-like request to a share page that does not follow redirects. */
async function visit(url: string, init: RequestInit = {}) {
  const response = await fetch(url, { redirect: 'manual', ...init });
  return { status: response.status, headers: response.headers, body: await response.text() };
}

/** What a browser sends when the share page's own form is submitted. */
const BROWSER_FORM = {
  accept: 'text/html,application/xhtml+xml,*/*;q=0.8',
  'sec-fetch-site': 'same-origin',
  'sec-fetch-dest': 'document',
  'sec-fetch-mode': 'navigate',
};

/** The share page's Download button (with the password field, when there is one). */
const submit = (url: string, form: Record<string, string> = {}, headers: Record<string, string> = BROWSER_FORM) =>
  visit(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin: new URL(url).origin, ...headers },
    body: new URLSearchParams(form).toString(),
  });

/** A POST as `curl -d ''` sends it: a form body, Accept: *\/*, no Origin, no Sec-Fetch-*. */
const scriptPost = (url: string, form: Record<string, string> = {}) =>
  visit(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form).toString(),
  });

/** The download a "Your download is starting" page goes on to (its refresh and its link name the same URL). */
function startedDownload(page: { status: number; body: string }): string {
  expect(page.status).toBe(200);
  expect(page.body).toContain('Your download is starting');
  const refresh = /<meta http-equiv="refresh" content="0; url=([^"]+)">/.exec(page.body)![1]!.replaceAll('&amp;', '&');
  const link = /<a href="([^"]+)">download it here<\/a>/.exec(page.body)![1]!.replaceAll('&amp;', '&');
  expect(link).toBe(refresh);
  return refresh;
}

const listShares = async (key: string, on = app): Promise<ShareLink[]> => {
  const list = await on.call('GET', api.fileShares(key));
  expect(list.status).toBe(200);
  return list.body.shares;
};

async function storedObject(key: string): Promise<string | undefined> {
  try {
    const object = await app.storage.client.send(new GetObjectCommand({ Bucket: app.storage.bucket, Key: key }));
    return await object.Body!.transformToString();
  } catch {
    return undefined;
  }
}

/** Follows a download redirect as a browser would: a presigned GET that lives seconds. */
async function followDownload(location: string) {
  const url = new URL(location);
  expect(url.searchParams.get('X-Amz-Signature')).toMatch(/^[0-9a-f]{64}$/);
  expect(Number(url.searchParams.get('X-Amz-Expires'))).toBeLessThanOrEqual(60);
  expect(Number(url.searchParams.get('X-Amz-Expires'))).toBeGreaterThan(0);
  const response = await fetch(location);
  expect(response.status).toBe(200);
  return {
    bytes: new Uint8Array(await response.arrayBuffer()),
    disposition: parseDisposition(response.headers.get('content-disposition')!),
  };
}

describe('creating a share link', () => {
  it('answers an absolute, unguessable /s/ URL with the chosen expiry, limit and note', async () => {
    const policy = await upload('report.txt', Buffer.from('quarterly numbers'));
    const before = Date.now();
    const link = await share(policy.key, { expiresIn: 3 * 24 * 3600, maxDownloads: 5, note: '  For the board meeting  ' });

    expect(link.id).toMatch(/^[A-Za-z0-9_-]{22}$/); // 16 random bytes
    expect(link.url).toBe(`${app.url}/s/${link.id}`);
    expect(link).toMatchObject({
      fileKey: policy.key,
      state: 'active',
      maxDownloads: 5,
      downloads: 0,
      note: 'For the board meeting',
      hasPassword: false,
      lastDownloadAt: null,
    });
    expect(Math.abs(Date.parse(link.expiresAt!) - (before + 3 * 24 * 3600_000))).toBeLessThan(10_000);
    expect(Math.abs(Date.parse(link.createdAt) - before)).toBeLessThan(10_000);

    // The record is one small JSON object in the bucket, found by its file with one listing.
    const record = JSON.parse((await storedObject(recordKey(link.id)))!);
    expect(record).toMatchObject({ id: link.id, fileKey: policy.key, fileName: 'report.txt', fileSize: 17, downloads: 0, password: null });
    const markers = await app.storage.client.send(
      new ListObjectsCommand({ Bucket: app.storage.bucket, Prefix: fileIndexPrefix(policy.key) }),
    );
    expect(markers.Contents?.map((o) => o.Key)).toEqual([liveMarkerKey(policy.key, link.id, link.expiresAt)]);
  });

  it('makes links that never expire, up to a year, and lists them newest first', async () => {
    const policy = await upload('forever.txt', Buffer.from('x'));
    const never = await share(policy.key, { expiresIn: null });
    const year = await share(policy.key, { expiresIn: 365 * 24 * 3600, maxDownloads: 1_000_000 });
    expect(never.expiresAt).toBeNull();
    expect(Date.parse(year.expiresAt!) - Date.now()).toBeGreaterThan(364 * 24 * 3600_000);

    const page = await visit(never.url);
    expect(page.body).toContain('This link does not expire.');
    expect((await listShares(policy.key)).map((s) => s.id)).toEqual([year.id, never.id]);
  });

  it.each([
    ['an expiry under an hour', { expiresIn: 3599 }],
    ['an expiry over a year', { expiresIn: 365 * 24 * 3600 + 1 }],
    ['a fractional expiry', { expiresIn: 3600.5 }],
    ['an expiry as text', { expiresIn: '3600' }],
    ['no expiry field at all', { expiresIn: undefined }],
    ['zero downloads', { maxDownloads: 0 }],
    ['too many downloads', { maxDownloads: 1_000_001 }],
    ['a fractional download limit', { maxDownloads: 1.5 }],
    ['a note over 500 characters', { note: 'n'.repeat(501) }],
    ['a password under 8 characters', { password: 'short12' }],
    ['a password over 200 characters', { password: 'p'.repeat(201) }],
    ['an unknown field', { public: true }],
  ])('refuses %s', async (_case, body) => {
    const policy = await upload('strict.txt', Buffer.from('x'));
    const created = await app.call('POST', api.fileShares(policy.key), { expiresIn: 3600, ...body });
    expect(created.status).toBe(400);
    expect(created.body.error.code).toBe('invalid_request');
  });

  it('answers 404 for a file that does not exist', async () => {
    const created = await app.call('POST', api.fileShares('uploads/0000000000a-0123456789abcdef/text/plain/missing.txt'), {
      expiresIn: 3600,
    });
    expect([created.status, created.body.error.code]).toEqual([404, 'not_found']);
  });
});

describe('opening a share link', () => {
  it('shows the name, size and note as text on a strict, script-free page', async () => {
    const name = `<img src=x onerror="alert(1)"> & 'quotes'.txt`;
    const policy = await upload(name, Buffer.alloc(2048, 1));
    const link = await share(policy.key, { note: '<script>alert("note")</script>\nSecond line' });

    const page = await visit(link.url);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html; charset=utf-8/);
    expect(page.body).toContain('&lt;img src=x onerror=&quot;alert(1)&quot;&gt; &amp; &#39;quotes&#39;.txt');
    expect(page.body).toContain('&lt;script&gt;alert(&quot;note&quot;)&lt;/script&gt;\nSecond line');
    expect(page.body).toContain('2 KiB');
    expect(page.body).not.toMatch(/<script|<img|onerror="/i);

    const csp = page.headers.get('content-security-policy')!;
    expect(csp).toContain("default-src 'none'");
    expect(csp).toMatch(/style-src 'sha256-[A-Za-z0-9+/=]+'/);
    expect(csp).toMatch(/form-action 'self'( 'self')?(;|$)/); // the embedded store is under this origin (/storage)
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain('unsafe');
    expect(page.headers.get('cache-control')).toBe('no-store');
    expect(page.headers.get('referrer-policy')).toBe('no-referrer');
  });

  it('answers 404 with a page for a link that does not exist', async () => {
    for (const id of ['AAAAAAAAAAAAAAAAAAAAAA', 'short', '..%2F..%2Fetc']) {
      const page = await visit(`${app.url}/s/${id}`);
      expect(page.status).toBe(404);
      expect(page.headers.get('content-type')).toMatch(/^text\/html/);
      expect(page.body).toContain('There is no such link');
    }
  });
});

describe('downloading through a share link', () => {
  it('redirects to a presigned GET that lives seconds, with the exact bytes under the original name', async () => {
    const bytes = randomBytes(20_000);
    const name = 'Grüße – März.bin';
    const policy = await upload(name, bytes, 'application/octet-stream');
    const link = await share(policy.key);

    // The page's Download button posts the form; the answer says the download is starting and goes on to it.
    const posted = await submit(link.url);
    const first = await followDownload(startedDownload(posted));
    expect(sha256(first.bytes)).toBe(sha256(bytes));
    expect(first.disposition).toMatchObject({ type: 'attachment', parameters: { filename: name } });

    // A POST from a script (curl -L -d '') is sent on to the file with a 303.
    const direct = await scriptPost(link.url);
    expect(direct.status).toBe(303);
    expect(direct.headers.get('cache-control')).toBe('no-store');
    expect(sha256((await followDownload(direct.headers.get('location')!)).bytes)).toBe(sha256(bytes));

    // Opening the page, ?dl=1 or a HEAD request does not count; each download does.
    await visit(link.url);
    expect((await visit(`${link.url}?dl=1`)).status).toBe(200);
    await visit(`${link.url}?dl=1`, { method: 'HEAD' });
    const [listed] = await listShares(policy.key);
    expect(listed).toMatchObject({ id: link.id, downloads: 2 });
    expect(Date.now() - Date.parse(listed!.lastDownloadAt!)).toBeLessThan(60_000);
  });

  it('stops after the maximum number of downloads with a 410 page', async () => {
    const policy = await upload('once.txt', Buffer.from('only once'));
    const link = await share(policy.key, { maxDownloads: 1 });
    expect((await visit(link.url)).body).toContain('1 download left.');

    const started = await submit(link.url);
    startedDownload(started);
    expect(started.body).toContain('0 downloads left.');
    for (const second of [await submit(link.url), await visit(`${link.url}?dl=1`), await visit(link.url)]) {
      expect(second.status).toBe(410);
      expect(second.body).toContain('This link has been used up');
      expect(second.headers.get('location')).toBeNull();
    }
    expect((await listShares(policy.key))[0]).toMatchObject({ downloads: 1, state: 'exhausted' });
  });

  it('counts simultaneous downloads exactly on one instance: never more than the limit', async () => {
    const policy = await upload('popular.txt', Buffer.from('everyone wants this'));
    const link = await share(policy.key, { maxDownloads: 3 });
    const results = await Promise.all(Array.from({ length: 10 }, () => scriptPost(link.url)));
    expect(results.filter((r) => r.status === 303)).toHaveLength(3);
    expect(results.filter((r) => r.status === 410)).toHaveLength(7);
    expect((await listShares(policy.key))[0]).toMatchObject({ downloads: 3, state: 'exhausted' });
  });

  it('shows a 410 page once the link has expired', async () => {
    const policy = await upload('old.txt', Buffer.from('old news'));
    const link = await share(policy.key, { expiresIn: 3600 });
    expect((await visit(link.url)).status).toBe(200);

    // Time passing, without faking the clock of a process that talks to S3 (SigV4 signs with it):
    // move the stored expiry into the past, exactly as an hour going by would leave the record.
    // (shareState's clock comparison itself is unit-tested with a faked clock in share-record.test.ts.)
    const store = new S3ShareStore(app.storage);
    await store.update(link.id, (current) => ({ ...(current as LiveShare), expiresAt: new Date(Date.now() - 1000).toISOString() }));

    for (const expired of [await visit(link.url), await visit(`${link.url}?dl=1`), await submit(link.url)]) {
      expect(expired.status).toBe(410);
      expect(expired.body).toContain('This link has expired');
    }
    expect((await listShares(policy.key))[0]).toMatchObject({ id: link.id, state: 'expired' });
  });

  it('shows a 410 page when the file was removed from storage behind the link', async () => {
    const policy = await upload('vanished.txt', Buffer.from('poof'));
    const link = await share(policy.key);
    await app.storage.client.send(new DeleteObjectCommand({ Bucket: app.storage.bucket, Key: policy.key }));
    const gone = await submit(link.url);
    expect(gone.status).toBe(410);
    expect(gone.body).toContain('This file is no longer available');
  });
});

describe('revoking', () => {
  it('turns the link off for good: 410 page, gone from the list, a tombstone without the details', async () => {
    const policy = await upload('secret plans.txt', Buffer.from('plans'));
    const link = await share(policy.key, { note: 'private note', password: 'correct horse' });
    const other = await share(policy.key);

    const revoked = await app.call('DELETE', api.share(link.id));
    expect(revoked.status).toBe(204);

    for (const page of [await visit(link.url), await visit(`${link.url}?dl=1`), await submit(link.url, { password: 'correct horse' })]) {
      expect(page.status).toBe(410);
      expect(page.body).toContain('This link was turned off');
      expect(page.body).not.toContain('secret plans');
    }
    expect((await listShares(policy.key)).map((s) => s.id)).toEqual([other.id]);
    expect((await visit(other.url)).status).toBe(200);

    const tombstone = JSON.parse((await storedObject(recordKey(link.id)))!);
    expect(Object.keys(tombstone).sort()).toEqual(['id', 'revokedAt', 'version']);

    expect((await app.call('DELETE', api.share(link.id))).status).toBe(204); // again: still revoked
    const unknown = await app.call('DELETE', api.share('AAAAAAAAAAAAAAAAAAAAAA'));
    expect([unknown.status, unknown.body.error.code]).toEqual([404, 'not_found']);
  });
});

describe('password-protected links', () => {
  it('stores only a scrypt hash, refuses a wrong password and downloads with the right one', async () => {
    const bytes = randomBytes(3000);
    const policy = await upload('tax return.pdf', bytes, 'application/pdf');
    const link = await share(policy.key, { password: 'correct horse battery' });
    expect(link.hasPassword).toBe(true);

    const stored = (await storedObject(recordKey(link.id)))!;
    expect(stored).not.toContain('correct horse');
    expect(JSON.parse(stored).password).toMatchObject({
      algorithm: 'scrypt',
      N: 2 ** 15,
      salt: expect.any(String),
      hash: expect.any(String),
    });

    const page = await visit(link.url);
    expect(page.status).toBe(200);
    expect(page.body).toContain('type="password"');
    // ?dl=1 shows the form; a POST without the password is asked for it.
    expect((await visit(`${link.url}?dl=1`)).status).toBe(200);
    expect((await scriptPost(link.url)).status).toBe(400);

    const empty = await submit(link.url);
    expect(empty.status).toBe(400);
    expect(empty.body).toContain('Enter the password');

    const wrong = await submit(link.url, { password: 'Correct horse battery' });
    expect(wrong.status).toBe(403);
    expect(wrong.body).toContain('That password is not right.');
    expect(wrong.headers.get('location')).toBeNull();

    // The right one: a page that says the download is starting, with no word of the wrong one.
    const right = await submit(link.url, { password: 'correct horse battery' });
    expect(right.body).not.toContain('not right');
    expect(sha256((await followDownload(startedDownload(right))).bytes)).toBe(sha256(bytes));
    expect((await listShares(policy.key))[0]!.downloads).toBe(1);
  });

  it('slows password tries down with 429 and a Retry-After of seconds after too many wrong ones', async () => {
    // Its own instance: the limits are per client address and per link, and every test here comes from 127.0.0.1.
    const limited = await startTestPostbox({ RATE_LIMIT_PER_MINUTE: '0' });
    try {
      const policy = await upload('guarded.txt', Buffer.from('guarded'), 'text/plain', limited);
      const link = await share(policy.key, { password: 'the real password' }, limited);
      // The link's free wrong tries, and one more (that one makes the next wait).
      for (let i = 0; i <= PASSWORD_THROTTLE.freePerLink; i++) {
        expect((await submit(link.url, { password: `guess number ${i}` })).status).toBe(403);
      }
      const paused = await submit(link.url, { password: 'guess again' });
      expect(paused.status).toBe(429);
      expect(Number(paused.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(Number(paused.headers.get('retry-after'))).toBeLessThanOrEqual(PASSWORD_THROTTLE.maxDelayMs / 1000);
      expect(paused.body).toContain('Too many wrong passwords');
      expect(paused.body).toMatch(/Wait (a second|\d+ seconds)/);
      // Opening the page is not a password try.
      expect((await visit(link.url)).status).toBe(200);
    } finally {
      await limited.stop();
    }
  });
});

describe('where share links point', () => {
  it('at PUBLIC_URL when it is set, whatever Host the request came with; the API accepts that origin', async () => {
    const behindProxy = await startTestPostbox({
      PUBLIC_URL: 'https://postbox.example.com',
      TRUST_PROXY: 'loopback',
      RATE_LIMIT_PER_MINUTE: '0',
    });
    try {
      const signed = await behindProxy.call('POST', api.uploads, { name: 'proxied.txt', size: 7, type: 'text/plain' });
      // The form posts to the embedded store at PUBLIC_URL; the proxy there would pass it on to this app.
      expect(signed.body.url).toBe('https://postbox.example.com/storage/postbox');
      const policy: UploadPolicy = signed.body;
      expect((await postThroughPolicy({ ...policy, url: `${behindProxy.url}/storage/postbox` }, Buffer.from('proxied'))).status).toBe(204);
      const created = await behindProxy.call(
        'POST',
        api.fileShares(policy.key),
        { expiresIn: 3600 },
        { origin: 'https://postbox.example.com' },
      );
      expect(created.status).toBe(201);
      expect(created.body.url).toBe(`https://postbox.example.com/s/${created.body.id}`);
      expect((await listShares(policy.key, behindProxy))[0]!.url).toBe(created.body.url);
      // Whatever the request says about its host: here the proxy's own (127.0.0.1).
      const direct = await behindProxy.call('POST', api.fileShares(policy.key), { expiresIn: 3600 });
      expect(direct.body.url).toBe(`https://postbox.example.com/s/${direct.body.id}`);
      // A host name it does not know is refused (DNS rebinding), even from a trusted proxy.
      const forwarded = await behindProxy.call(
        'POST',
        api.fileShares(policy.key),
        { expiresIn: 3600 },
        { 'x-forwarded-host': 'elsewhere.example' },
      );
      expect([forwarded.status, forwarded.body.error.code]).toEqual([421, 'unknown_host']);
      // The page itself is still served under any Host.
      expect((await visit(`${behindProxy.url}/s/${created.body.id}`)).status).toBe(200);
    } finally {
      await behindProxy.stop();
    }
  });

  it("at the request's own origin otherwise: X-Forwarded-Host/Proto only when TRUST_PROXY believes the sender", async () => {
    const policy = await upload('forwarded.txt', Buffer.from('forwarded'));
    const forwarded = { 'x-forwarded-host': 'files.example.org', 'x-forwarded-proto': 'https' };
    const untrusted = await app.call('POST', api.fileShares(policy.key), { expiresIn: 3600 }, forwarded);
    expect(untrusted.body.url).toBe(`${app.url}/s/${untrusted.body.id}`);

    const trusting = await startTestPostbox({ TRUST_PROXY: 'loopback', ALLOWED_HOSTS: '*', RATE_LIMIT_PER_MINUTE: '0' });
    try {
      const other = await upload('forwarded.txt', Buffer.from('forwarded'), 'text/plain', trusting);
      const trusted = await trusting.call('POST', api.fileShares(other.key), { expiresIn: 3600 }, forwarded);
      expect(trusted.body.url).toBe(`https://files.example.org/s/${trusted.body.id}`);
      // A forwarded host that is not a plain host[:port] never makes it into a link.
      const odd = await trusting.call(
        'POST',
        api.fileShares(other.key),
        { expiresIn: 3600, note: 'refused' },
        { 'x-forwarded-host': 'files.example.org/phish?' },
      );
      expect([odd.status, odd.body.error.code]).toEqual([400, 'invalid_request']);
      // ...and a refused request made no link.
      const listed = await trusting.call('GET', api.fileShares(other.key));
      expect(listed.body.shares.map((s: { note: string | null }) => s.note)).not.toContain('refused');
    } finally {
      await trusting.stop();
    }
  });
});

describe('opening share pages', () => {
  it('is limited per client: past RATE_LIMIT_PER_MINUTE opens, 429 with Retry-After and a page that says to wait', async () => {
    const limited = await startTestPostbox({ RATE_LIMIT_PER_MINUTE: '4' });
    try {
      const policy = await upload('popular.txt', Buffer.from('popular'), 'text/plain', limited);
      const link = await share(policy.key, {}, limited);
      const guessed = `${limited.url}/s/AAAAAAAAAAAAAAAAAAAAAA`;
      // Guessed ids count too: walking through them is what the limit is for.
      const statuses = [await visit(link.url), await visit(guessed), await visit(link.url, { method: 'HEAD' }), await submit(link.url)].map(
        (r) => r.status,
      );
      expect(statuses).toEqual([200, 404, 200, 200]);

      const paused = await visit(link.url);
      expect(paused.status).toBe(429);
      expect(paused.headers.get('content-type')).toMatch(/^text\/html/);
      expect(Number(paused.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(Number(paused.headers.get('retry-after'))).toBeLessThanOrEqual(60);
      expect(paused.body).toContain('Too many requests from your address');
      expect(paused.headers.get('content-security-policy')).toContain("default-src 'none'");
      expect(paused.headers.get('cache-control')).toBe('no-store');
      expect((await submit(link.url)).status).toBe(429);
      expect((await visit(guessed)).status).toBe(429);
      // The paused opens did not reach storage: the one download went through, nothing more.
      expect((await listShares(policy.key, limited))[0]!.downloads).toBe(1);
    } finally {
      await limited.stop();
    }
  });

  it('counts each client apart', async () => {
    // Behind a trusted proxy, clients are told apart by X-Forwarded-For.
    const proxied = await startTestPostbox({ RATE_LIMIT_PER_MINUTE: '2', TRUST_PROXY: 'loopback' });
    try {
      const page = `${proxied.url}/s/AAAAAAAAAAAAAAAAAAAAAA`;
      const from = (ip: string) => visit(page, { headers: { 'x-forwarded-for': ip } });
      expect([(await from('198.51.100.1')).status, (await from('198.51.100.1')).status, (await from('198.51.100.1')).status]).toEqual([
        404, 404, 429,
      ]);
      expect((await from('198.51.100.2')).status).toBe(404);
    } finally {
      await proxied.stop();
    }
  });
});

describe('the records are out of reach of uploads and of the file API', () => {
  it('never signs an upload key outside uploads/, whatever the name', async () => {
    for (const name of ['../shares/links/AAAAAAAAAAAAAAAAAAAAAA.json', 'shares/links/x.json', '..']) {
      const signed = await app.call('POST', api.uploads, { name, size: 1, type: 'application/json' });
      expect(signed.status).toBe(201);
      expect(signed.body.key.startsWith('uploads/')).toBe(true);
      expect(parseUploadKey(signed.body.key)).toBeDefined();
      expect(signed.body.fields.key).toBe(signed.body.key);
    }
  });

  it('refuses a policy whose key was changed to a share record', async () => {
    const policy = await upload('victim.txt', Buffer.from('v'));
    const link = await share(policy.key);
    const before = await storedObject(recordKey(link.id));

    const signed = await app.call('POST', api.uploads, { name: 'evil.json', size: 2, type: 'application/json' });
    const tampered = { ...signed.body, fields: { ...signed.body.fields, key: recordKey(link.id) } };
    const posted = await postThroughPolicy(tampered, Buffer.from('{}'));
    expect(posted.status).toBe(403);
    expect(await storedObject(recordKey(link.id))).toBe(before);
  });

  it('refuses share, link and delete calls on keys under shares/', async () => {
    const policy = await upload('target.txt', Buffer.from('t'));
    const link = await share(policy.key);
    for (const key of [recordKey(link.id), `${fileIndexPrefix(policy.key)}${link.id}`, `${SHARES_PREFIX}x`]) {
      for (const [method, path, body] of [
        ['POST', api.fileShares(key), { expiresIn: 3600 }],
        ['GET', api.fileShares(key), undefined],
        ['POST', api.fileLink(key), { expiresIn: 3600 }],
        ['DELETE', api.file(key), undefined],
      ] as const) {
        const response = await app.call(method, path, body);
        expect([response.status, response.body.error.code]).toEqual([400, 'invalid_request']);
      }
    }
    expect(await storedObject(recordKey(link.id))).toBeDefined();
    expect((await visit(link.url)).status).toBe(200);
  });
});

describe('deleting a file', () => {
  it('deletes its share links with it, revoked ones (tombstones) too', async () => {
    const policy = await upload('doomed.txt', Buffer.from('bye'));
    const links = [await share(policy.key), await share(policy.key, { password: 'a password!' }), await share(policy.key)];
    expect((await app.call('DELETE', api.share(links[2]!.id))).status).toBe(204);
    expect((await visit(links[2]!.url)).status).toBe(410);
    const otherFile = await upload('survivor.txt', Buffer.from('hi'));
    const survivor = await share(otherFile.key);

    expect((await app.call('DELETE', api.file(policy.key))).status).toBe(204);

    for (const link of links) {
      expect((await visit(link.url)).status).toBe(404);
      expect((await submit(link.url)).status).toBe(404);
      expect(await storedObject(recordKey(link.id))).toBeUndefined();
    }
    for (const prefix of [fileIndexPrefix(policy.key), legacyRevokedIndexPrefix(policy.key)]) {
      const markers = await app.storage.client.send(new ListObjectsCommand({ Bucket: app.storage.bucket, Prefix: prefix }));
      expect(markers.Contents ?? []).toHaveLength(0);
    }
    expect((await visit(survivor.url)).status).toBe(200);
  });
});

describe('when Postbox requires sign-in', () => {
  it('keeps the share API locked and the share pages public', async () => {
    const token = 'share-links-test-token-0123456789';
    const locked = await startTestPostbox({ POSTBOX_API_TOKENS: token, RATE_LIMIT_PER_MINUTE: '0' });
    try {
      const auth = { authorization: `Bearer ${token}` };
      const bytes = Buffer.from('for the public');
      const signed = await locked.call('POST', api.uploads, { name: 'public.txt', size: bytes.length, type: 'text/plain' }, auth);
      expect((await postThroughPolicy(signed.body, bytes)).status).toBe(204);
      const key: string = signed.body.key;

      const refused = await locked.call('POST', api.fileShares(key), { expiresIn: 3600 });
      expect([refused.status, refused.body.error.code]).toEqual([401, 'unauthorized']);
      expect((await locked.call('GET', api.fileShares(key))).status).toBe(401);

      const created = await locked.call('POST', api.fileShares(key), { expiresIn: 3600 }, auth);
      expect(created.status).toBe(201);
      expect((await locked.call('DELETE', api.share(created.body.id))).status).toBe(401);

      expect((await visit(created.body.url)).status).toBe(200);
      const download = await scriptPost(created.body.url);
      expect(download.status).toBe(303);
      expect(Buffer.from((await followDownload(download.headers.get('location')!)).bytes).toString()).toBe('for the public');
    } finally {
      await locked.stop();
    }
  });
});

describe('nothing but the recipient uses up a download (issue 18, finding 6)', () => {
  it.each([
    ['a cross-site form', { 'sec-fetch-site': 'cross-site', origin: 'https://evil.example' }],
    ['a same-site page (another subdomain)', { 'sec-fetch-site': 'same-site', origin: 'https://other.postbox.example' }],
    ['a sandboxed iframe (Origin: null)', { 'sec-fetch-site': 'cross-site', origin: 'null' }],
    ['an old browser saying only Origin: null', { origin: 'null' }],
    ['an old browser saying only another Origin', { origin: 'https://evil.example' }],
  ])('refuses a POST from %s with a 403 page and counts nothing', async (_case, headers) => {
    const policy = await upload('target.txt', Buffer.from('target'));
    const link = await share(policy.key, { maxDownloads: 1 });
    const refused = await visit(link.url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html', ...headers },
      body: '',
    });
    expect(refused.status).toBe(403);
    expect(refused.headers.get('content-type')).toMatch(/^text\/html/);
    expect(refused.headers.get('location')).toBeNull();
    expect(refused.body).toContain('Start the download from the link itself');
    expect(refused.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect((await listShares(policy.key))[0]).toMatchObject({ downloads: 0, state: 'active' });
    // The recipient's own press of Download still works.
    startedDownload(await submit(link.url));
  });

  it('never counts a GET: a link previewer fetching the page, every URL on it, ?dl=1, HEAD and OPTIONS', async () => {
    const policy = await upload('preview me.txt', Buffer.from('preview'));
    const link = await share(policy.key, { maxDownloads: 1 });
    const previewer = { 'user-agent': 'Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)', accept: 'text/html,*/*' };
    const page = await visit(link.url, { headers: previewer });
    expect(page.status).toBe(200);
    const urls = [...page.body.matchAll(/(?:href|src|action|url)=["']?([^"' >]+)/g)].map(
      (m) => new URL(m[1]!.replaceAll('&amp;', '&'), link.url),
    );
    expect(urls.map(String)).toContain(link.url); // the form's action
    for (const url of urls.filter((u) => u.protocol.startsWith('http')))
      expect((await visit(String(url), { headers: previewer })).status).toBe(200);
    for (const query of ['?dl=1', '?dl=1&password=x', '?download=true'])
      expect((await visit(link.url + query, { headers: previewer })).status).toBe(200);
    const head = await visit(`${link.url}?dl=1`, { method: 'HEAD', headers: previewer });
    expect(head.status).toBe(200);
    const options = await visit(link.url, { method: 'OPTIONS', headers: previewer });
    expect(options.status).toBeLessThan(400);
    expect(options.headers.get('location')).toBeNull();

    expect((await listShares(policy.key))[0]).toMatchObject({ downloads: 0, state: 'active' });
    expect((await visit(link.url)).body).toContain('1 download left.');
  });

  it('refuses a password sent in the address, and counts nothing', async () => {
    const policy = await upload('query.txt', Buffer.from('query'));
    const link = await share(policy.key, { password: 'in the body only' });
    const refused = await scriptPost(`${link.url}?password=${encodeURIComponent('in the body only')}`);
    expect(refused.status).toBe(400);
    expect(refused.body).toContain('The password does not go in the address');
    expect((await listShares(policy.key))[0]!.downloads).toBe(0);
  });

  it('answers ids of another length, or with dots and slashes, with a 404 page on GET and POST', async () => {
    // ('..' itself never reaches /s/: URLs resolve it before sending.)
    for (const id of ['AAAAAAAAAAAAAAAAAAAAA', 'AAAAAAAAAAAAAAAAAAAAAAA', '..%2F..%2Fshares%2Flinks', 'AAAAAAAAAAAAAAAAAAAA..', '%00']) {
      for (const response of [await visit(`${app.url}/s/${id}`), await scriptPost(`${app.url}/s/${id}`)]) {
        expect(response.status).toBe(404);
        expect(response.headers.get('content-type')).toMatch(/^text\/html/);
      }
    }
  });

  it('answers a clear 503 page, never a 500, on GET and POST when storage cannot be reached', async () => {
    const lonely = await startTestPostbox({ RATE_LIMIT_PER_MINUTE: '0' });
    const policy = await upload('offline.txt', Buffer.from('offline'), 'text/plain', lonely);
    const link = await share(policy.key, {}, lonely);
    await lonely.storage.close();
    try {
      for (const answer of [await visit(link.url), await submit(link.url), await scriptPost(link.url)]) {
        expect(answer.status).toBe(503);
        expect(answer.headers.get('content-type')).toMatch(/^text\/html/);
        expect(answer.body).toContain('Postbox cannot reach its storage right now');
      }
    } finally {
      await lonely.stop().catch(() => {});
    }
  });

  it('lets exactly one of ten simultaneous downloads through on a limit of 1', async () => {
    const policy = await upload('single.txt', Buffer.from('single'));
    const link = await share(policy.key, { maxDownloads: 1 });
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 ? scriptPost(link.url) : submit(link.url))));
    expect(results.filter((r) => r.status === 303 || r.status === 200)).toHaveLength(1);
    expect(results.filter((r) => r.status === 410)).toHaveLength(9);
    expect((await listShares(policy.key))[0]).toMatchObject({ downloads: 1, state: 'exhausted' });
  });
});

describe('downloading a limited link with curl or wget (the commands in docs/shares.md)', () => {
  const run = (command: string, args: string[]) =>
    new Promise<{ code: number; stderr: string }>((resolve) => {
      execFile(command, args, { timeout: 20_000 }, (err, _stdout, stderr) => resolve({ code: err ? Number(err.code ?? 1) : 0, stderr }));
    });

  it('curl -fL -d "" and --data-urlencode password=…, wget --post-data: the file, counted once each, then 410', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'postbox-curl-'));
    try {
      const bytes = randomBytes(5000);
      const policy = await upload('report 2027.bin', bytes, 'application/octet-stream');
      const plain = await share(policy.key, { maxDownloads: 2 });
      const file = path.join(dir, 'out');

      expect(await run('curl', ['-fsSL', '-d', '', '-o', file, plain.url])).toMatchObject({ code: 0 });
      expect(sha256(await readFile(file))).toBe(sha256(bytes));
      expect((await listShares(policy.key)).find((s) => s.id === plain.id)!.downloads).toBe(1);

      expect(await run('wget', ['-q', '--post-data=', '-O', file, plain.url])).toMatchObject({ code: 0 });
      expect(sha256(await readFile(file))).toBe(sha256(bytes));
      expect((await listShares(policy.key)).find((s) => s.id === plain.id)!.downloads).toBe(2);

      // Used up: curl -f fails on the 410 and writes nothing.
      await rm(file, { force: true });
      expect((await run('curl', ['-fsSL', '-d', '', '-o', file, plain.url])).code).toBe(22);

      const guarded = await share(policy.key, { maxDownloads: 1, password: 'p@ss word & more' });
      expect((await run('curl', ['-fsSL', '--data-urlencode', 'password=wrong password', '-o', file, guarded.url])).code).toBe(22);
      expect(await run('curl', ['-fsSL', '--data-urlencode', 'password=p@ss word & more', '-o', file, guarded.url])).toMatchObject({
        code: 0,
      });
      expect(sha256(await readFile(file))).toBe(sha256(bytes));
      expect((await listShares(policy.key)).find((s) => s.id === guarded.id)!.downloads).toBe(1);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('storage calls per request (issue 18, finding 8)', () => {
  it(`decides the ${SHARE_LINKS_PER_FILE + 1}st link's 409 from one listing, without reading a record`, async () => {
    const policy = await upload('shared a lot.txt', Buffer.from('x'));
    for (let i = 0; i < SHARE_LINKS_PER_FILE; i += 10) await Promise.all(Array.from({ length: 10 }, () => share(policy.key)));
    const recorder = recordStorageCalls(app.storage.client);
    let refused;
    try {
      refused = await app.call('POST', api.fileShares(policy.key), { expiresIn: 3600 });
    } finally {
      recorder.stop();
    }
    expect([refused.status, refused.body.error.code]).toEqual([409, 'too_many_share_links']);
    expect(recorder.count('GetObjectCommand')).toBe(0);
    expect(recorder.count('PutObjectCommand')).toBe(0);
    expect(recorder.count('ListObjectsCommand')).toBe(1);
    expect(recorder.calls.length).toBeLessThanOrEqual(2); // the file's HEAD, the listing

    // A revoked link makes room, and its tombstone does not count.
    const [first] = await listShares(policy.key);
    expect((await app.call('DELETE', api.share(first!.id))).status).toBe(204);
    await share(policy.key);
    expect((await app.call('POST', api.fileShares(policy.key), { expiresIn: 3600 })).status).toBe(409);
  }, 120_000);

  it('deletes a file with a listing and two deletes per link, revoked ones included', async () => {
    const policy = await upload('many links.txt', Buffer.from('x'));
    const links = await Promise.all(Array.from({ length: 8 }, () => share(policy.key)));
    for (const link of links.slice(0, 4)) expect((await app.call('DELETE', api.share(link.id))).status).toBe(204);
    const recorder = recordStorageCalls(app.storage.client);
    try {
      expect((await app.call('DELETE', api.file(policy.key))).status).toBe(204);
    } finally {
      recorder.stop();
    }
    // The file's links: two listings (one for markers of older versions), then record + marker per link.
    expect(recorder.count('ListObjectsCommand')).toBe(2);
    expect(recorder.count('GetObjectCommand')).toBe(0);
    // The file itself is deleted by the uploads store: at most a couple of calls more.
    expect(recorder.count('DeleteObjectCommand')).toBeLessThanOrEqual(2 * links.length + 2);
    expect(recorder.calls.length).toBeLessThanOrEqual(2 + 2 * links.length + 3);
  });
});

describe('a wrong-password hammer does not lock the recipient out (issue 18, finding 9)', () => {
  it('lets the recipient from another address through with the right password while an attacker hammers; the attacker stays slow', async () => {
    // The real share pages and storage, with a clock the test moves (no sleeps), behind a "proxy" (loopback)
    // so that X-Forwarded-For tells the attacker and the recipient apart.
    let now = Date.now();
    const pages = express();
    pages.set('trust proxy', 'loopback');
    pages.use((req, _res, next) => {
      (req as unknown as { log: Logger }).log = pino({ level: 'silent' });
      next();
    });
    pages.use(
      sharePageRoutes(createShareService(app.storage), {
        storageOrigin: new URL(app.storage.endpoint!).origin,
        opensPerMinute: 0,
        attempts: new PasswordThrottle({ now: () => now }),
      }),
    );
    const server = pages.listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      const policy = await upload('payroll.csv', Buffer.from('name,salary'), 'text/csv');
      const link = await share(policy.key, { password: 'the right password', maxDownloads: 5 });
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/s/${link.id}`;
      const from = (ip: string, password: string) => submit(url, { password }, { ...BROWSER_FORM, 'x-forwarded-for': ip });

      // The attacker guesses from four networks in turn (its own limit per address would stop one): a burst
      // of 40 guesses at once, then one every 20 s of a simulated 20 minutes, honouring no Retry-After.
      const networks = ['2001:db8:1::7', '2001:db8:2::7', '2001:db8:3::7', '203.0.113.66'];
      const attacker: { ip: string; status: number }[] = [];
      const guess = async (i: number) => {
        const ip = networks[i % networks.length]!;
        attacker.push({ ip, status: (await from(ip, `guess ${i}`)).status });
      };
      await Promise.all(Array.from({ length: 40 }, (_, i) => guess(i)));
      const recipient: { status: number; retryAfter: number }[] = [];
      for (let second = 0; second < 20 * 60; second += 20) {
        await guess(second / 20);
        if (second === 100 || second === 600) {
          // The recipient, from another address, with the right password; they wait what Retry-After says, once.
          let answer = await from('198.51.100.20', 'the right password');
          const retryAfter = Number(answer.headers.get('retry-after') ?? 0);
          if (answer.status === 429) {
            now += retryAfter * 1000;
            answer = await from('198.51.100.20', 'the right password');
          }
          recipient.push({ status: answer.status, retryAfter });
        }
        now += 20_000;
      }
      // Through both times, after waiting seconds at most, never minutes.
      for (const r of recipient) expect(r.retryAfter).toBeLessThanOrEqual(PASSWORD_THROTTLE.maxDelayMs / 1000);
      expect(recipient.map((r) => r.status)).toEqual([200, 200]);
      // The attacker stays slow: per address at most its limit per 15 minutes; all together about one
      // check per maxDelay once the link has slowed down (plus its free tries and the ramp up to the cap).
      expect(attacker.filter((a) => a.status !== 403 && a.status !== 429).map((a) => a.status)).toEqual([]);
      const checked = attacker.filter((a) => a.status === 403);
      for (const ip of networks) expect(checked.filter((a) => a.ip === ip).length).toBeLessThanOrEqual(2 * PASSWORD_THROTTLE.perClient);
      const ramp = PASSWORD_THROTTLE.freePerLink + Math.ceil(Math.log2(PASSWORD_THROTTLE.maxDelayMs / 1000)) + 1;
      expect(checked.length).toBeLessThanOrEqual(ramp + (20 * 60_000) / PASSWORD_THROTTLE.maxDelayMs + 1);
    } finally {
      server.close();
    }
  }, 120_000);
});

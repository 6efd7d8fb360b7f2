import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, type ShareLink, type UploadPolicy } from '../../contract/api.ts';
import { loadConfig } from '../config/config.ts';
import { personIdOf, spaceFor } from '../people/person.ts';
import { usageKey } from '../people/usage.ts';
import { startPostbox, type RunningPostbox } from '../postbox.ts';
import { thumbnailKeyFor } from '../signing/thumbnails.ts';
import { signInThroughProvider, startTestProvider, type CookieJar, type TestProvider } from '../testing/oidc-provider.ts';
import { freePort } from './free-port.ts';
import { postThroughPolicy, startTestPostbox } from './harness.ts';

/*
 * Round 4's adversarial pass across features (docs/security.md, "Attempts across features"): people
 * with accounts, a request link's visitor, a stolen share link, against each other's files,
 * thumbnails, previews, bundles, tokens and admin routes. One app in the OIDC mode, on a bucket an
 * open-mode Postbox used before (a request link and a token from before accounts).
 */

const SECRET = 'postbox-test-client-secret';
const QUOTA = 1_000_000;

let provider: TestProvider;
let app: RunningPostbox;
let dataDir: string;
/** Made by the local person before OIDC was switched on. */
let localRequestId: string;
let localToken: string;

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- every route's answer; tests read the fields they assert on
type Answer = { status: number; body: any; headers: Headers };

async function call(base: string, method: string, urlPath: string, body?: unknown, headers: Record<string, string> = {}): Promise<Answer> {
  const response = await fetch(base + urlPath, {
    method,
    headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined, headers: response.headers };
}

const config = (env: Record<string, string>) =>
  loadConfig({ PORT: '0', POSTBOX_DATA_DIR: dataDir, LOG_LEVEL: 'silent', RATE_LIMIT_PER_MINUTE: '0', ...env });

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'postbox-seams-'));
  // Before accounts: the open mode's local person makes a request link.
  const before = await startPostbox(config({}), pino({ level: 'silent' }));
  const made = await call(before.url, 'POST', api.requests, { expiresIn: null, note: 'from before accounts' });
  expect(made.status).toBe(201);
  localRequestId = made.body.id as string;
  const token = await call(before.url, 'POST', api.tokens, { name: 'from before accounts' });
  expect(token.status).toBe(201);
  localToken = token.body.token as string;
  await before.close();

  const providerPort = await freePort();
  const port = await freePort();
  provider = await startTestProvider(providerPort, [{ clientId: 'postbox', clientSecret: SECRET, postboxUrl: `http://127.0.0.1:${port}` }]);
  app = await startPostbox(
    config({
      PORT: String(port),
      PUBLIC_URL: `http://127.0.0.1:${port}`,
      OIDC_ISSUER_URL: provider.issuer,
      OIDC_CLIENT_ID: 'postbox',
      OIDC_CLIENT_SECRET: SECRET,
      POSTBOX_ADMINS: 'alice@example.test',
      USER_QUOTA_BYTES: String(QUOTA),
    }),
    pino({ level: 'silent' }),
  );
});
afterAll(async () => {
  await app?.close();
  await provider?.stop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

type Caller = (method: string, urlPath: string, body?: unknown, headers?: Record<string, string>) => Promise<Answer>;
const as =
  (jar: CookieJar): Caller =>
  (method, urlPath, body, headers = {}) =>
    call(app.url, method, urlPath, body, { cookie: jar.header(app.url), ...headers });
const anyone: Caller = (method, urlPath, body, headers) => call(app.url, method, urlPath, body, headers);

async function upload(who: Caller, name: string, type: string, bytes: Buffer): Promise<string> {
  const policy = await who('POST', api.uploads, { name, size: bytes.length, type });
  expect(policy.status, JSON.stringify(policy.body)).toBe(201);
  expect((await postThroughPolicy(policy.body as UploadPolicy, bytes)).status).toBe(204);
  return policy.body.key as string;
}

const exists = async (key: string) =>
  app.storage.client.send(new HeadObjectCommand({ Bucket: app.storage.bucket, Key: key })).then(
    () => true,
    () => false,
  );

/** A browser on a share page: keeps the visit cookie, does not follow redirects. */
function recipient(cookie = '') {
  const go = async (url: string, init: RequestInit) => {
    const response = await fetch(url, { redirect: 'manual', ...init, headers: { ...(cookie && { cookie }), ...(init.headers as object) } });
    const set = response.headers.get('set-cookie');
    if (set) cookie = set.split(';')[0]!;
    return { status: response.status, location: response.headers.get('location') };
  };
  const form = { 'content-type': 'application/x-www-form-urlencoded', 'sec-fetch-site': 'same-origin' };
  return {
    download: (url: string, file: number) => go(url, { method: 'POST', headers: form, body: `file=${file}` }),
    zip: (url: string, indexes: number[]) =>
      go(`${url}/zip`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'sec-fetch-site': 'same-origin' },
        body: JSON.stringify({ indexes }),
      }),
    cookie: () => cookie,
  };
}

const PNG = Buffer.from('89504e470d0a1a0a0000000d4948445200000001000000010806000000', 'hex');

describe('across features, in the OIDC mode', () => {
  let alice: Caller;
  let bob: Caller;
  const aliceId = () => personIdOf(provider.issuer, 'alice');
  const bobId = () => personIdOf(provider.issuer, 'bob');

  beforeAll(async () => {
    alice = as((await signInThroughProvider(app.url, 'alice')).jar);
    bob = as((await signInThroughProvider(app.url, 'bob')).jar);
  });

  it("another person's image: no thumbnail policy, thumbnail URL, preview or bundle (404, as a missing key)", async () => {
    const aliceImage = await upload(alice, 'alice.png', 'image/png', PNG);
    const bobFile = await upload(bob, 'bob.txt', 'text/plain', Buffer.from('bob'));
    expect((await bob('POST', api.fileThumbnail(aliceImage), { size: 100, type: 'image/webp' })).status).toBe(404);
    expect((await bob('POST', api.thumbnails, { keys: [aliceImage] })).status).toBe(404);
    expect((await bob('POST', api.filePreview(aliceImage))).status).toBe(404);
    const bundle = await bob('POST', api.shares, { keys: [bobFile, aliceImage], expiresIn: 3600 });
    expect(bundle.status).toBe(404);
    // Nothing was made: Bob's own file has no link.
    expect((await bob('GET', api.fileShares(bobFile))).body.shares).toEqual([]);
  });

  it('bundles and thumbnail policies take no thumbnail, postbox/, shares/ or requests/ key (400)', async () => {
    const image = await upload(bob, 'b.png', 'image/png', PNG);
    const keys = [
      thumbnailKeyFor(image)!,
      `postbox/usage/${bobId()}.json`,
      'shares/links/AAAAAAAAAAAAAAAAAAAAAA.json',
      `requests/links/${localRequestId}.json`,
      `${spaceFor(bobId())}uploads/../../${spaceFor(aliceId())}uploads/x`,
    ];
    for (const key of keys) {
      expect((await bob('POST', api.shares, { keys: [image, key], expiresIn: 3600 })).status, key).toBe(400);
      expect((await bob('POST', api.fileThumbnail(key), { size: 100, type: 'image/webp' })).status, key).toBe(400);
    }
  });

  it("a request link's visitor reaches none of the requester's other files, thumbnails or shares", async () => {
    const own = await upload(bob, 'private.png', 'image/png', PNG);
    const link = await bob('POST', api.requests, { expiresIn: 3600 });
    expect(link.status).toBe(201);
    const signed = await anyone('POST', api.requestUploads(link.body.id), { name: 'v.png', size: PNG.length, type: 'image/png' });
    expect(signed.status).toBe(201);
    expect(signed.body.key.startsWith(`${spaceFor(bobId())}uploads/`)).toBe(true);
    expect((await postThroughPolicy(signed.body as UploadPolicy, PNG)).status).toBe(204);
    // A visit naming the requester's own file confirms only the visitor's.
    const visit = await anyone('POST', api.requestVisits(link.body.id), { keys: [signed.body.key, own] });
    expect(visit.body.confirmed).toEqual([signed.body.key]);
    // No API route of the requester's answers the visitor (no session).
    for (const [method, route, body] of [
      ['POST', api.fileThumbnail(signed.body.key), { size: 100, type: 'image/webp' }],
      ['POST', api.thumbnails, { keys: [own] }],
      ['POST', api.filePreview(own), undefined],
      ['POST', api.shares, { keys: [own], expiresIn: 3600 }],
      ['GET', api.fileShares(own), undefined],
      ['GET', api.usage, undefined],
    ] as const) {
      expect((await anyone(method, route, body)).status, route).toBe(401);
    }
    // The policy writes its one key: not the thumbnail's, not the requester's other file.
    for (const key of [thumbnailKeyFor(own)!, own]) {
      const forged = { ...(signed.body as UploadPolicy), fields: { ...signed.body.fields, key } };
      expect((await postThroughPolicy(forged, PNG)).status).toBe(403);
    }
  });

  it("a visit cookie is the link's own: not another bundle's, and nothing after the link is revoked", async () => {
    const a = await upload(alice, 'a.txt', 'text/plain', Buffer.from('aaa'));
    const b = await upload(alice, 'b.txt', 'text/plain', Buffer.from('bbb'));
    const one = (await alice('POST', api.shares, { keys: [a, b], expiresIn: 3600, maxDownloads: 1 })).body as ShareLink;
    const two = (await alice('POST', api.shares, { keys: [a, b], expiresIn: 3600, maxDownloads: 1 })).body as ShareLink;
    const visitor = recipient();
    expect((await visitor.download(one.url, 0)).status).toBe(303);
    // Replayed on the other bundle (the cookie's path aside): a new visit, counted there.
    const replay = recipient(visitor.cookie());
    expect((await replay.download(two.url, 0)).status).toBe(303);
    expect((await alice('GET', api.fileShares(a))).body.shares.find((s: ShareLink) => s.id === two.id).downloads).toBe(1);
    // Both used up; the first visit goes on with its own link until it is revoked.
    expect((await recipient(visitor.cookie()).download(one.url, 1)).status).toBe(303);
    expect((await alice('DELETE', api.share(one.id))).status).toBe(204);
    expect((await recipient(visitor.cookie()).download(one.url, 1)).status).toBe(410);
    expect((await recipient(visitor.cookie()).zip(one.url, [0, 1])).status).toBe(410);
  });

  it("a visitor's HTML declared as PNG previews as an image only; the preview URL's type cannot be edited", async () => {
    const link = await bob('POST', api.requests, { expiresIn: 3600 });
    const html = Buffer.from('<script>parent.alert(document.cookie)</script>');
    const signed = await anyone('POST', api.requestUploads(link.body.id), { name: 'photo.png', size: html.length, type: 'image/png' });
    expect((await postThroughPolicy(signed.body as UploadPolicy, html)).status).toBe(204);
    const preview = await bob('POST', api.filePreview(signed.body.key));
    expect(preview.status).toBe(201);
    const served = await fetch(preview.body.url);
    expect(served.status).toBe(200);
    expect(served.headers.get('content-type')).toBe('image/png');
    expect(served.headers.get('x-content-type-options')).toBe('nosniff');
    const edited = new URL(preview.body.url as string);
    edited.searchParams.set('response-content-type', 'text/html');
    expect((await fetch(edited)).status).toBe(403);
    const added = new URL(preview.body.url as string);
    added.searchParams.delete('response-content-type');
    expect((await fetch(added)).status).toBe(403);
  });

  it('clients drive no metrics labels: made-up paths, share ids and keys are counted under route patterns', async () => {
    const marker = `zz${Date.now()}`;
    const paths = [`/api/${marker}`, `/s/${marker}`, `/${marker}`, `/api/files/${marker}/link`, `/storage/${marker}`];
    for (const path of paths) await fetch(app.url + path);
    await fetch(`${app.url}/api/files`, { method: 'PROPFIND' });
    const { body } = await app.metrics.scrape();
    expect(body).not.toContain(marker);
    expect(body).not.toMatch(/method="PROPFIND"[^}]*route="\/api\/files"/);
  });

  it('ten downloads and ten zips at once on a bundle with one download: one visit through', async () => {
    const a = await upload(alice, 'p.txt', 'text/plain', Buffer.from('ppp'));
    const b = await upload(alice, 'q.txt', 'text/plain', Buffer.from('qqq'));
    const link = (await alice('POST', api.shares, { keys: [a, b], expiresIn: 3600, maxDownloads: 1 })).body as ShareLink;
    const answers = await Promise.all([
      ...Array.from({ length: 10 }, (_, i) => recipient().download(link.url, i % 2)),
      ...Array.from({ length: 10 }, () => recipient().zip(link.url, [0, 1])),
    ]);
    const through = answers.filter((answer) => answer.status === 303 || answer.status === 200);
    expect(through).toHaveLength(1);
    expect(answers.every((answer) => [200, 303, 410].includes(answer.status))).toBe(true);
  });
});

describe('across features: holes found in round 4 (each test failed before its fix)', () => {
  let alice: Caller;
  let bob: Caller;
  const bobId = () => personIdOf(provider.issuer, 'bob');

  beforeAll(async () => {
    alice = as((await signInThroughProvider(app.url, 'alice')).jar);
    bob = as((await signInThroughProvider(app.url, 'bob')).jar);
  });

  it("the local person's token from before accounts acts as no one once OIDC is on", async () => {
    const bearer = { authorization: `Bearer ${localToken}` };
    expect((await anyone('GET', api.files, undefined, bearer)).status).toBe(401);
    expect((await anyone('GET', api.adminPeople, undefined, bearer)).status).toBe(401);
  });

  it('a request link the local person made before accounts takes no more files once OIDC is on: no one can close it', async () => {
    // Its visitors would fill the space of files from before accounts, which no one signs in as.
    const page = await anyone('GET', api.requestPublic(localRequestId));
    expect(page.status).toBe(200);
    expect(page.body.state).toBe('closed');
    const signed = await anyone('POST', api.requestUploads(localRequestId), { name: 'late.txt', size: 3, type: 'text/plain' });
    expect(signed.status).toBe(410);
    expect(signed.body.error.code).toBe('request_closed');
  });

  it("a visitor refused by the requester's quota learns nothing of the requester's usage or quota", async () => {
    const link = await bob('POST', api.requests, { expiresIn: 3600 });
    const big = { name: 'big.bin', size: QUOTA + 1, type: 'application/octet-stream' };
    const refused = await anyone('POST', api.requestUploads(link.body.id), big);
    expect(refused.status).toBe(413);
    expect(refused.body.error.code).toBe('quota_exceeded');
    expect(refused.body.error.message).not.toMatch(/\d|you have|KiB|bytes/);
    // The requester, on their own upload, still gets the figures.
    const own = await bob('POST', api.uploads, { name: 'big.bin', size: QUOTA + 1, type: 'application/octet-stream' });
    expect(own.body.error.message).toMatch(/left of/);
  });

  it("an admin removing a person's files removes their thumbnails too", async () => {
    const image = await upload(bob, 'removed.png', 'image/png', PNG);
    const policy = await bob('POST', api.fileThumbnail(image), { size: 10, type: 'image/webp' });
    expect((await postThroughPolicy(policy.body as UploadPolicy, Buffer.alloc(10))).status).toBe(204);
    expect(await exists(thumbnailKeyFor(image)!)).toBe(true);
    const removed = await alice('DELETE', api.adminPersonFiles(bobId()));
    expect(removed.status).toBe(200);
    expect(await exists(image)).toBe(false);
    expect(await exists(thumbnailKeyFor(image)!)).toBe(false);
  });

  it("crafted person ids on the admin's remove route reach no space (404), and a personal token is no admin", async () => {
    for (const id of ['..%2F..', 'LOCAL', '0'.repeat(15), 'people', `${'a'.repeat(32)}%2F..`, 'a'.repeat(65), `${'a'.repeat(32)}%00`]) {
      const answer = await alice('DELETE', `/api/admin/people/${id}/files`);
      expect({ id, status: answer.status, code: answer.body?.error?.code }).toEqual({ id, status: 404, code: 'not_found' });
    }
    const token = await alice('POST', api.tokens, { name: 'script' });
    expect(token.status).toBe(201);
    const bearer = { authorization: `Bearer ${token.body.token}` };
    expect((await anyone('POST', api.tokens, { name: 'more' }, bearer)).status).toBe(403);
    expect((await anyone('GET', api.adminPeople, undefined, bearer)).status).toBe(403);
    expect((await anyone('DELETE', api.adminPersonFiles(bobId()), undefined, bearer)).status).toBe(403);
    expect((await anyone('POST', api.requests, { expiresIn: 3600, webhookUrl: 'http://127.0.0.1:9/' }, bearer)).status).toBe(403);
  });
});

describe('one person (open mode) with a quota', () => {
  it('a thumbnail policy only for a file that exists: no made-up key stores bytes outside the quota (404)', async () => {
    const single = await startTestPostbox({ USER_QUOTA_BYTES: '1000', RATE_LIMIT_PER_MINUTE: '0' });
    try {
      const policy = await single.call('POST', api.uploads, { name: 'x.png', size: PNG.length, type: 'image/png' });
      expect(policy.status).toBe(201);
      // Never posted: the key is well-formed and the local person's, but no file is there.
      const thumbnail = await single.call('POST', api.fileThumbnail(policy.body.key as string), { size: 65536, type: 'image/webp' });
      expect(thumbnail.status).toBe(404);
      expect((await postThroughPolicy(policy.body as UploadPolicy, PNG)).status).toBe(204);
      expect((await single.call('POST', api.fileThumbnail(policy.body.key as string), { size: 100, type: 'image/webp' })).status).toBe(201);
    } finally {
      await single.stop();
    }
  });

  it('thumbnails count in the quota: one posted after its file was deleted still takes its bytes, reserved and listed', async () => {
    const single = await startTestPostbox({ USER_QUOTA_BYTES: '1000', RATE_LIMIT_PER_MINUTE: '0' });
    try {
      const policy = await single.call('POST', api.uploads, { name: 'x.png', size: PNG.length, type: 'image/png' });
      expect((await postThroughPolicy(policy.body as UploadPolicy, PNG)).status).toBe(204);
      const key = policy.body.key as string;
      const thumbnail = await single.call('POST', api.fileThumbnail(key), { size: 900, type: 'image/webp' });
      expect(thumbnail.status).toBe(201);
      expect((await single.call('DELETE', api.file(key))).status).toBe(204);
      // The policy outlives the file: the thumbnail lands without it.
      expect((await postThroughPolicy(thumbnail.body as UploadPolicy, Buffer.alloc(900))).status).toBe(204);
      // Before the fix: 201, the 900 bytes were nobody's.
      const over = await single.call('POST', api.uploads, { name: 'y.bin', size: 200, type: 'application/octet-stream' });
      expect([over.status, over.body.error?.code]).toEqual([413, 'quota_exceeded']);
      // A recount from a listing (the record damaged) finds the thumbnail too.
      await single.storage.client.send(
        new PutObjectCommand({ Bucket: single.storage.bucket, Key: usageKey('local'), Body: 'not a record' }),
      );
      expect((await single.call('GET', api.usage)).body).toMatchObject({ usedBytes: 900, files: 0 });
    } finally {
      await single.stop();
    }
  });
});

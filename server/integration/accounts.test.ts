import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api } from '../../contract/api.ts';
import { personIdOf, spaceFor } from '../people/person.ts';
import {
  CookieJar,
  follow,
  signInThroughProvider,
  startTestProvider,
  submitLogin,
  visit,
  type TestProvider,
} from '../testing/oidc-provider.ts';
import { freePort } from './free-port.ts';
import { postThroughPolicy, startTestPostbox, type TestPostbox } from './harness.ts';
import { OIDC_SIGN_INS_PER_MINUTE } from '../http/app.ts';

const SECRET = 'postbox-test-client-secret';

/** A Postbox in the OIDC mode on a port known in advance (the provider must know its redirect URI). */
async function oidcPostbox(port: number, issuer: string, env: Record<string, string> = {}): Promise<TestPostbox> {
  return startTestPostbox({
    PORT: String(port),
    PUBLIC_URL: `http://127.0.0.1:${port}`,
    OIDC_ISSUER_URL: issuer,
    OIDC_CLIENT_ID: 'postbox',
    OIDC_CLIENT_SECRET: SECRET,
    ...env,
  });
}

/** A person signed in: API calls with their session cookie. */
function as(app: TestPostbox, jar: CookieJar) {
  return (method: string, path: string, body?: unknown) => app.call(method, path, body, { cookie: jar.header(app.url) });
}

let provider: TestProvider;
let app: TestPostbox;
let postboxPort: number;
const otherUrl = 'http://127.0.0.1:9'; // another relying party's redirect URI: never fetched

beforeAll(async () => {
  const providerPort = await freePort();
  postboxPort = await freePort();
  provider = await startTestProvider(providerPort, [
    { clientId: 'postbox', clientSecret: SECRET, postboxUrl: `http://127.0.0.1:${postboxPort}` },
    { clientId: 'other-app', clientSecret: 'other-app-secret', postboxUrl: otherUrl },
  ]);
  app = await oidcPostbox(postboxPort, provider.issuer);
});
afterAll(async () => {
  await app?.stop();
  await provider?.stop();
});

describe('signing in with the provider', () => {
  it('ends on Postbox with a session for the person: id from issuer + sub, verified e-mail, name; the end-session URL offered', async () => {
    const { jar, url, response } = await signInThroughProvider(app.url, 'alice');
    expect(url).toBe(`${app.url}/`);
    expect(response.status).not.toBe(500);
    expect(jar.get(app.url, 'postbox_session')).toMatch(/^v3\./);
    expect(jar.get(app.url, 'postbox_oidc_flow')).toBeUndefined(); // used once, then cleared
    const session = await as(app, jar)('GET', api.session);
    expect(session.body).toMatchObject({
      authRequired: true,
      signInEnabled: false,
      signedIn: true,
      mode: 'oidc',
      person: { id: personIdOf(provider.issuer, 'alice'), email: 'alice@example.test', name: 'Alice Example' },
      signInUrl: '/auth/login',
    });
    expect(session.body.endSessionUrl).toMatch(new RegExp(`^${provider.issuer}/session/end\\?`));
    expect(new URL(session.body.endSessionUrl as string).searchParams.get('post_logout_redirect_uri')).toBe(`${app.url}/`);
  });

  it('signed out, says so and offers the sign-in; nothing else of the API answers', async () => {
    const session = await app.call('GET', api.session);
    expect(session.body).toEqual({
      authRequired: true,
      signInEnabled: false,
      signedIn: false,
      mode: 'oidc',
      person: null,
      signInUrl: '/auth/login',
      endSessionUrl: null,
    });
    expect((await app.call('GET', api.files)).status).toBe(401);
    expect((await app.call('POST', api.session, { password: 'anything at all' })).status).toBe(400);
  });

  it('signing out of Postbox ends the session for every instance (revocation)', async () => {
    const { jar } = await signInThroughProvider(app.url, 'alice');
    const cookie = jar.header(app.url);
    expect((await app.call('GET', api.files, undefined, { cookie })).status).toBe(200);
    expect((await app.call('DELETE', api.session, undefined, { cookie })).status).toBe(204);
    expect((await app.call('GET', api.files, undefined, { cookie })).status).toBe(401);
  });

  it('a provider session that expired: Postbox keeps its own session; signing in again asks at the provider again', async () => {
    const { jar } = await signInThroughProvider(app.url, 'bob');
    jar.forget(provider.issuer); // the provider no longer knows this browser
    expect((await as(app, jar)('GET', api.files)).status).toBe(200);
    const again = await follow(jar, `${app.url}/auth/login`);
    expect(again.url.startsWith(`${provider.issuer}/interaction/`)).toBe(true);
    expect(await again.response.clone().text()).toContain('name="login"');
    const done = await submitLogin(jar, again, 'bob');
    expect(done.url).toBe(`${app.url}/`);
    expect((await as(app, jar)('GET', api.session)).body.person.id).toBe(personIdOf(provider.issuer, 'bob'));
  });

  it('cancelled at the provider: a 403 page saying so, with a link to try again, no session', async () => {
    const jar = new CookieJar();
    const loginPage = await follow(jar, `${app.url}/auth/login`);
    const abort = /href="([^"]*\/abort)"/.exec(await loginPage.response.text())?.[1];
    expect(abort).toBeDefined();
    const end = await follow(jar, new URL(abort!, loginPage.url).href);
    expect(end.url.startsWith(`${app.url}/auth/callback?`)).toBe(true);
    expect(end.response.status).toBe(403);
    const page = await end.response.text();
    expect(page).toContain('Sign-in was cancelled');
    expect(page).toContain('action="/auth/login"');
    expect(jar.get(app.url, 'postbox_session')).toBeUndefined();
  });

  it('a callback without its sign-in (another browser, replayed): a 400 page, no session', async () => {
    const { jar } = await signInThroughProvider(app.url, 'alice');
    const replay = await visit(new CookieJar(), `${app.url}/auth/callback?code=abc&state=def&iss=${encodeURIComponent(provider.issuer)}`);
    expect(replay.status).toBe(400);
    expect(await replay.text()).toContain('This answer belongs to no sign-in begun in this browser.');
    expect(replay.headers.getSetCookie().join()).not.toContain('postbox_session=v');
    expect(jar.get(app.url, 'postbox_session')).toBeDefined();
  });

  it('refuses an ID token made for another audience (a real one, right nonce, for another app)', async () => {
    const jar = new CookieJar();
    const start = await visit(jar, `${app.url}/auth/login`);
    const postboxAuth = new URL(start.headers.get('location')!);
    // The same person signs in to another app at the provider, with the nonce Postbox asked for.
    const verifier = randomBytes(32).toString('base64url');
    const otherAuth = new URL(postboxAuth.href);
    otherAuth.searchParams.set('client_id', 'other-app');
    otherAuth.searchParams.set('redirect_uri', `${otherUrl}/auth/callback`);
    otherAuth.searchParams.set('code_challenge', createHash('sha256').update(verifier).digest('base64url'));
    const page = await follow(jar, otherAuth.href);
    const back = await submitLogin(jar, page, 'alice', otherUrl);
    const code = new URL(back.url).searchParams.get('code')!;
    const tokens = (await (
      await fetch(`${provider.issuer}/token`, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          authorization: `Basic ${Buffer.from('other-app:other-app-secret').toString('base64')}`,
        },
        body: new URLSearchParams({
          grant_type: 'authorization_code',
          code,
          redirect_uri: `${otherUrl}/auth/callback`,
          code_verifier: verifier,
        }),
      })
    ).json()) as { id_token: string };
    expect(JSON.parse(Buffer.from(tokens.id_token.split('.')[1]!, 'base64url').toString()).aud).toBe('other-app');
    // Postbox's token request gets that ID token.
    provider.intercept = (req, res) => {
      if (req.method !== 'POST' || !req.url?.startsWith('/token')) return false;
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ access_token: 'x', token_type: 'Bearer', expires_in: 60, id_token: tokens.id_token }));
      return true;
    };
    try {
      const end = await follow(jar, postboxAuth.href);
      expect(end.url.startsWith(`${app.url}/auth/callback?`)).toBe(true);
      expect(end.response.status).toBe(502);
      expect(await end.response.text()).toContain('did not pass Postbox&#39;s checks');
      expect(jar.get(app.url, 'postbox_session')).toBeUndefined();
    } finally {
      provider.intercept = undefined;
    }
  });
});

describe('a misconfigured or absent provider', () => {
  it('sign-ins are limited per client (each costs the provider work): the one past OIDC_SIGN_INS_PER_MINUTE gets 429', async () => {
    const down = await oidcPostbox(await freePort(), `http://127.0.0.1:${await freePort()}`, { RATE_LIMIT_PER_MINUTE: '600' });
    try {
      const answers = new Set<number>();
      for (let i = 0; i < OIDC_SIGN_INS_PER_MINUTE; i++) answers.add((await visit(new CookieJar(), `${down.url}/auth/login`)).status);
      expect(answers).toEqual(new Set([503]));
      const limited = await visit(new CookieJar(), `${down.url}/auth/login`);
      expect(limited.status).toBe(429);
      expect(limited.headers.get('retry-after')).toMatch(/^\d+$/);
    } finally {
      await down.stop();
    }
  });

  it('a wrong client secret: a 502 page that says the provider does not accept this Postbox; no session, no loop', async () => {
    const port = await freePort();
    // The provider knows this Postbox's redirect URI only through the main client: register a second one.
    const wrongProvider = await startTestProvider(await freePort(), [
      { clientId: 'postbox', clientSecret: SECRET, postboxUrl: `http://127.0.0.1:${port}` },
    ]);
    const wrong = await oidcPostbox(port, wrongProvider.issuer, { OIDC_CLIENT_SECRET: 'not-the-secret' });
    try {
      const { jar, url, response } = await signInThroughProvider(wrong.url, 'alice');
      expect(url.startsWith(`${wrong.url}/auth/callback?`)).toBe(true);
      expect(response.status).toBe(502);
      const page = await response.text();
      expect(page).toContain('does not accept this Postbox');
      expect(page).not.toMatch(/at .*\.ts:\d+/); // no stack
      expect(jar.get(wrong.url, 'postbox_session')).toBeUndefined();
    } finally {
      await wrong.stop();
      await wrongProvider.stop();
    }
  });

  it('down when Postbox starts: Postbox runs, /auth/login answers a 503 page; once the provider is up, sign-in works', async () => {
    const [port, providerPort] = [await freePort(), await freePort()];
    const early = await oidcPostbox(port, `http://127.0.0.1:${providerPort}`);
    let late: TestProvider | undefined;
    try {
      expect((await early.call('GET', api.health)).status).toBe(200);
      const down = await visit(new CookieJar(), `${early.url}/auth/login`);
      expect(down.status).toBe(503);
      expect(await down.text()).toContain('The identity provider cannot be reached right now.');
      late = await startTestProvider(providerPort, [{ clientId: 'postbox', clientSecret: SECRET, postboxUrl: `http://127.0.0.1:${port}` }]);
      const { url, jar } = await signInThroughProvider(early.url, 'bob');
      expect(url).toBe(`${early.url}/`);
      expect((await as(early, jar)('GET', api.session)).body.person.email).toBe('bob@example.test');
    } finally {
      await early.stop();
      await late?.stop();
    }
  });
});

describe("each person's own space", () => {
  let alice: ReturnType<typeof as>;
  let bob: ReturnType<typeof as>;
  const aliceId = () => personIdOf(provider.issuer, 'alice');
  const bobId = () => personIdOf(provider.issuer, 'bob');

  beforeAll(async () => {
    alice = as(app, (await signInThroughProvider(app.url, 'alice')).jar);
    bob = as(app, (await signInThroughProvider(app.url, 'bob')).jar);
  });

  async function uploadAs(call: typeof alice, name: string, bytes: Buffer): Promise<string> {
    const policy = await call('POST', api.uploads, { name, size: bytes.length, type: 'text/plain' });
    expect(policy.status).toBe(201);
    expect((await postThroughPolicy(policy.body, bytes)).status).toBe(204);
    return policy.body.key as string;
  }

  it("uploads are keyed in the person's space and each listing shows only their own files", async () => {
    const aliceKey = await uploadAs(alice, 'alice.txt', Buffer.from('for alice'));
    const bobKey = await uploadAs(bob, 'bob.txt', Buffer.from('for bob'));
    expect(aliceKey.startsWith(`${spaceFor(aliceId())}uploads/`)).toBe(true);
    expect(bobKey.startsWith(`${spaceFor(bobId())}uploads/`)).toBe(true);
    const aliceFiles = (await alice('GET', `${api.files}?limit=1000`)).body.files.map((f: { key: string }) => f.key);
    const bobFiles = (await bob('GET', `${api.files}?limit=1000`)).body.files.map((f: { key: string }) => f.key);
    expect(aliceFiles).toContain(aliceKey);
    expect(aliceFiles).not.toContain(bobKey);
    expect(bobFiles).toContain(bobKey);
    expect(bobFiles).not.toContain(aliceKey);
    // A cursor from the other space moves nothing out of one's own.
    const crossCursor = await bob('GET', `${api.files}?${new URLSearchParams({ cursor: aliceKey, limit: '1000' }).toString()}`);
    expect(crossCursor.body.files.every((f: { key: string }) => f.key.startsWith(spaceFor(bobId())))).toBe(true);
  });

  it("every route answers another person's key exactly as a key that does not exist in one's own space (404)", async () => {
    const aliceKey = await uploadAs(alice, 'private.txt', Buffer.from('alice only'));
    const share = await alice('POST', api.fileShares(aliceKey), { expiresIn: 3600 });
    expect(share.status).toBe(201);
    const aliceUpload = await alice('POST', api.multipartUploads, { name: 'big.bin', size: 10, type: 'application/octet-stream' });
    expect(aliceUpload.status).toBe(201);
    // Bob's own: a file he deleted, a share id that never existed, an upload he cancelled.
    const missingKey = await uploadAs(bob, 'private.txt', Buffer.from('gone'));
    expect((await bob('DELETE', api.file(missingKey))).status).toBe(204);
    const bobUpload = await bob('POST', api.multipartUploads, { name: 'gone.bin', size: 10, type: 'application/octet-stream' });
    expect((await bob('DELETE', api.multipartUpload(bobUpload.body.key, bobUpload.body.uploadId))).status).toBe(204);
    const ref = (u: { key: string; uploadId: string }) =>
      `${api.multipartParts}?${new URLSearchParams({ key: u.key, uploadId: u.uploadId }).toString()}`;

    const attempts: [string, string, string, unknown, string, unknown][] = [
      ['POST', 'link', api.fileLink(aliceKey), { expiresIn: 60 }, api.fileLink(missingKey), { expiresIn: 60 }],
      ['POST', 'share', api.fileShares(aliceKey), { expiresIn: 3600 }, api.fileShares(missingKey), { expiresIn: 3600 }],
      ['GET', 'list shares', api.fileShares(aliceKey), undefined, api.fileShares(missingKey), undefined],
      ['DELETE', 'revoke share', api.share(share.body.id), undefined, api.share(`${'A'.repeat(10)}${share.body.id.slice(10)}`), undefined],
      ['GET', 'list parts', ref(aliceUpload.body), undefined, ref(bobUpload.body), undefined],
      [
        'POST',
        'complete',
        api.multipartComplete,
        { uploadToken: aliceUpload.body.uploadToken, parts: [{ partNumber: 1, etag: '"x"' }] },
        api.multipartComplete,
        { uploadToken: bobUpload.body.uploadToken, parts: [{ partNumber: 1, etag: '"x"' }] },
      ],
      [
        'DELETE',
        'abort',
        api.multipartUpload(aliceUpload.body.key, aliceUpload.body.uploadId),
        undefined,
        api.multipartUpload(bobUpload.body.key, bobUpload.body.uploadId),
        undefined,
      ],
      ['DELETE', 'delete file', api.file(aliceKey), undefined, api.file(missingKey), undefined],
    ];
    const table: string[] = ["route                | another person's key | a missing key of one's own"];
    for (const [method, name, otherPath, otherBody, missingPath, missingBody] of attempts) {
      const other = await bob(method, otherPath, otherBody);
      const missing = await bob(method, missingPath, missingBody);
      table.push(
        `${`${method} ${name}`.padEnd(20)} | ${other.status} ${other.body?.error?.code}        | ${missing.status} ${missing.body?.error?.code}`,
      );
      expect({ name, status: other.status, body: other.body }).toEqual({ name, status: missing.status, body: missing.body });
      expect(other.status).toBe(404);
    }
    // Signing parts with another person's (leaked) upload token: 404 as a gone upload. A gone upload of one's own
    // still gets URLs signed (no storage round trip), which S3 then refuses: the token cannot be forged.
    const signed = await bob('POST', api.multipartSign, { uploadToken: aliceUpload.body.uploadToken, partNumbers: [1] });
    table.push(`POST sign parts      | ${signed.status} ${signed.body?.error?.code}        | (200: URLs S3 refuses)`);
    expect(signed.status).toBe(404);
    expect(signed.body).toEqual((await bob('GET', ref(bobUpload.body))).body);
    console.log(`isolation attempts (bob on alice's keys):\n${table.join('\n')}`);

    // Nothing of Alice's changed.
    expect((await alice('GET', api.fileShares(aliceKey))).body.shares).toHaveLength(1);
    expect((await alice('POST', api.fileLink(aliceKey), { expiresIn: 60 })).status).toBe(201);
    expect((await alice('GET', ref(aliceUpload.body))).status).toBe(200);
    const stale = await bob('GET', `${api.multipartUploads}?olderThanSeconds=0`);
    expect(stale.body.uploads.map((u: { key: string }) => u.key)).not.toContain(aliceUpload.body.key);
    const aliceStale = await alice('GET', `${api.multipartUploads}?olderThanSeconds=0`);
    expect(aliceStale.body.uploads.map((u: { key: string }) => u.key)).toContain(aliceUpload.body.key);
    // Alice herself can do all of it.
    expect((await alice('DELETE', api.share(share.body.id))).status).toBe(204);
    expect((await alice('DELETE', api.multipartUpload(aliceUpload.body.key, aliceUpload.body.uploadId))).status).toBe(204);
    expect((await alice('DELETE', api.file(aliceKey))).status).toBe(204);
  });
});

import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { api, ErrorBody } from '../../contract/api.ts';
import { REVOCATION_CACHE_MS } from '../http/access.ts';
import { securityHeaders } from '../http/security.ts';
import { EMBEDDED_CREDENTIALS } from '../storage/embedded-s3.ts';
import { startTestPostbox, type TestPostbox } from './harness.ts';
import { startThrowawayS3, type ThrowawayS3 } from './throwaway-s3.ts';

const PASSWORD = 'correct horse battery staple';
const TOKEN = 'script-token-0123456789abcdef';
const someKey = 'uploads/0000000000a-0123456789abcdef/text/plain/a.txt';

describe('locked Postbox (password and API token)', () => {
  let app: TestPostbox;
  beforeAll(async () => {
    app = await startTestPostbox({ POSTBOX_PASSWORD: PASSWORD, POSTBOX_API_TOKENS: TOKEN });
  });
  afterAll(() => app?.stop());

  const signIn = async () => {
    const response = await app.call('POST', api.session, { password: PASSWORD });
    expect(response.status).toBe(204);
    return response.headers.get('set-cookie')!;
  };

  const protectedCalls: [string, string, unknown?][] = [
    ['POST', api.uploads, { name: 'a.txt', size: 1, type: 'text/plain' }],
    ['GET', api.files],
    ['POST', api.fileLink(someKey), { expiresIn: 60 }],
    ['DELETE', api.file(someKey)],
  ];

  it.each(protectedCalls)('%s %s refuses without a session or token: 401 unauthorized', async (method, path, body) => {
    const response = await app.call(method, path, body);
    expect(response.status).toBe(401);
    expect(response.body.error.code).toBe('unauthorized');
    expect(response.headers.get('www-authenticate')).toContain('Bearer');
  });

  it.each(protectedCalls)('%s %s accepts a bearer token and a session cookie', async (method, path, body) => {
    const cookie = (await signIn()).split(';')[0]!;
    for (const headers of [{ authorization: `Bearer ${TOKEN}` }, { cookie }] as Record<string, string>[]) {
      const response = await app.call(method, path, body, headers);
      expect(response.status, JSON.stringify(response.body)).not.toBe(401);
      expect(response.status).toBeLessThan(500);
    }
  });

  it('refuses a Complete without sign-in before reading its big body (401, not 413)', async () => {
    const parts = Array.from({ length: 10_000 }, (_, i) => ({ partNumber: i + 1, etag: `"${'0'.repeat(32)}"${' '.repeat(300)}` }));
    const response = await app.call('POST', api.multipartComplete, { key: someKey, uploadId: 'x', parts });
    expect([response.status, response.body.error.code]).toEqual([401, 'unauthorized']);
  });

  it('refuses a wrong token, a forged cookie and an expired one', async () => {
    expect((await app.call('GET', api.files, undefined, { authorization: `Bearer ${TOKEN}x` })).status).toBe(401);
    const cookie = (await signIn()).split(';')[0]!;
    const forged = cookie.replace(/\.(\d+)\./, (_m, exp) => `.${Number(exp) + 3600}.`);
    expect((await app.call('GET', api.files, undefined, { cookie: forged })).status).toBe(401);
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Date.now() - 8 * 24 * 3600_000); // signed in 8 days ago; sessions last 7
    const old = (await signIn()).split(';')[0]!;
    vi.useRealTimers();
    expect((await app.call('GET', api.files, undefined, { cookie: old })).status).toBe(401);
  });

  it('a session cookie is no bearer token, and a bearer token no session cookie', async () => {
    const cookie = (await signIn()).split(';')[0]!;
    const value = cookie.split('=')[1]!;
    expect((await app.call('GET', api.files, undefined, { authorization: `Bearer ${value}` })).status).toBe(401);
    expect((await app.call('GET', api.files, undefined, { cookie: `postbox_session=${TOKEN}` })).status).toBe(401);
  });

  it('keeps health, settings and the session state open', async () => {
    for (const path of [api.health, api.settings]) expect((await app.call('GET', path)).status).toBe(200);
    const state = await app.call('GET', api.session);
    expect(state.body).toEqual({
      authRequired: true,
      signInEnabled: true,
      signedIn: false,
      mode: 'password',
      person: null,
      signInUrl: null,
      endSessionUrl: null,
    });
  });

  it('signs in with the password: a secure, HttpOnly, SameSite=Strict session cookie', async () => {
    const cookie = await signIn();
    expect(cookie).toMatch(/^postbox_session=v2\.[A-Za-z0-9_-]{22}\.\d+\.\d+\.[0-9a-f]{64};/);
    expect(cookie).toContain('HttpOnly');
    expect(cookie).toContain('SameSite=Strict');
    expect(cookie).toContain('Secure');
    expect(cookie).toContain('Path=/');
    expect(cookie).toMatch(/Max-Age=604800/);
    const state = await app.call('GET', api.session, undefined, { cookie: cookie.split(';')[0]! });
    expect(state.body.signedIn).toBe(true);

    const out = await app.call('DELETE', api.session);
    expect(out.status).toBe(204);
    expect(out.headers.get('set-cookie')).toMatch(/postbox_session=;.*Expires=Thu, 01 Jan 1970/);
  });

  it('refuses a wrong password, and limits attempts: 429 with Retry-After', async () => {
    const wrong = await app.call('POST', api.session, { password: 'guess' });
    expect([wrong.status, wrong.body.error.code]).toEqual([401, 'invalid_credentials']);
    let limited;
    for (let i = 0; i < 12 && !limited; i++) {
      const response = await app.call('POST', api.session, { password: `guess ${i}` });
      if (response.status === 429) limited = response;
    }
    expect(limited?.body.error.code).toBe('rate_limited');
    expect(Number(limited?.headers.get('retry-after'))).toBeGreaterThan(0);
  });
});

describe('wrong API tokens', () => {
  let app: TestPostbox;
  beforeAll(async () => {
    app = await startTestPostbox({ POSTBOX_API_TOKENS: TOKEN, POSTBOX_PASSWORD: PASSWORD, TRUST_PROXY: 'loopback' });
  });
  afterAll(() => app?.stop());

  it('are limited per client: after 10 in a minute, 429 with Retry-After, even for the right token', async () => {
    const from = (client: string, token: string) =>
      app.call('GET', api.files, undefined, { authorization: `Bearer ${token}`, 'x-forwarded-for': client });
    for (let i = 0; i < 10; i++) expect((await from('203.0.113.7', `guess-${i}-0123456789abcdef`)).status).toBe(401);
    const limited = await from('203.0.113.7', TOKEN);
    expect([limited.status, limited.body.error.code]).toEqual([429, 'rate_limited']);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    // Another client is not affected; right tokens are not counted.
    for (let i = 0; i < 12; i++) expect((await from('203.0.113.8', TOKEN)).status).toBe(200);
    expect((await from('203.0.113.8', 'one-wrong-guess-0123456789')).status).toBe(401);
  });

  it('are counted and refused by the session check too, which would otherwise answer guesses unlimited', async () => {
    const session = (token: string) =>
      app.call('GET', api.session, undefined, { authorization: `Bearer ${token}`, 'x-forwarded-for': '203.0.113.9' });
    for (let i = 0; i < 10; i++) expect((await session(`guess-${i}-0123456789abcdef`)).body.signedIn).toBe(false);
    expect((await session(TOKEN)).body.signedIn).toBe(false); // past the limit: not compared
    expect(
      (await app.call('GET', api.files, undefined, { authorization: `Bearer ${TOKEN}`, 'x-forwarded-for': '203.0.113.9' })).status,
    ).toBe(429);
  });

  it('do not lock out people signed in with a session behind the same address', async () => {
    for (let i = 0; i < 11; i++) {
      await app.call('GET', api.files, undefined, {
        authorization: `Bearer guess-${i}-0123456789abcdef`,
        'x-forwarded-for': '203.0.113.10',
      });
    }
    const signIn = await app.call('POST', api.session, { password: PASSWORD }, { 'x-forwarded-for': '203.0.113.10' });
    const cookie = signIn.headers.get('set-cookie')!.split(';')[0]!;
    expect((await app.call('GET', api.files, undefined, { cookie, 'x-forwarded-for': '203.0.113.10' })).status).toBe(200);
  });
});

/** A request with the given Host header (fetch cannot set one). */
function withHost(base: string, method: string, path: string, host: string, headers: Record<string, string> = {}, body?: unknown) {
  const { hostname, port } = new URL(base);
  const payload = body === undefined ? undefined : JSON.stringify(body);
  type Answer = { status: number; body: Partial<ErrorBody>; headers: Record<string, string | string[] | undefined> };
  return new Promise<Answer>((resolve, reject) => {
    const req = request(
      { hostname, port, method, path, headers: { ...headers, host, ...(payload ? { 'content-type': 'application/json' } : {}) } },
      (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
        res.on('end', () =>
          // Only the error matters here: any other JSON (or a page) reads as no error.
          resolve({
            status: res.statusCode!,
            body: /json/.test(res.headers['content-type'] ?? '') ? ErrorBody.partial().parse(JSON.parse(text)) : {},
            headers: res.headers,
          }),
        );
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

describe('open Postbox (nothing configured)', () => {
  let app: TestPostbox;
  beforeAll(async () => {
    app = await startTestPostbox({ RATE_LIMIT_PER_MINUTE: '5' });
  });
  afterAll(() => app?.stop());

  it('needs no sign-in', async () => {
    expect((await app.call('GET', api.session)).body).toEqual({
      authRequired: false,
      signInEnabled: false,
      signedIn: true,
      mode: 'open',
      person: null,
      signInUrl: null,
      endSessionUrl: null,
    });
    expect((await app.call('GET', api.files)).status).toBe(200);
  });

  it('refuses state-changing requests from another site: 403 forbidden', async () => {
    const body = { name: 'a.txt', size: 1, type: 'text/plain' };
    const fromEvil = await app.call('POST', api.uploads, body, { origin: 'https://evil.example' });
    expect([fromEvil.status, fromEvil.body.error.code]).toEqual([403, 'forbidden']);
    const crossSite = await app.call('POST', api.uploads, body, { 'sec-fetch-site': 'cross-site' });
    expect([crossSite.status, crossSite.body.error.code]).toEqual([403, 'forbidden']);
    const form = await app.call('POST', api.uploads, 'name=a.txt', {
      'content-type': 'application/x-www-form-urlencoded',
      'sec-fetch-site': 'same-origin',
    });
    expect([form.status, form.body.error.code]).toEqual([415, 'json_required']);
    const sameOrigin = await app.call('POST', api.uploads, body, { origin: app.url, 'sec-fetch-site': 'same-origin' });
    expect(sameOrigin.status).toBe(201);
  });

  it('answers only under known host names and IP addresses: a page on a rebound DNS name gets 421', async () => {
    const port = new URL(app.url).port;
    const rebound = `rebind.attacker.example:${port}`;
    // What the attacker's page sends once its name points at this server: its own Host and Origin.
    const asPage = { 'sec-fetch-site': 'same-origin', origin: `http://${rebound}` };
    for (const [method, path, body] of [
      ['GET', api.files],
      ['POST', api.uploads, { name: 'a.txt', size: 1, type: 'text/plain' }],
      ['DELETE', api.file(someKey)],
    ] as const) {
      const answer = await withHost(app.url, method, path, rebound, asPage, body);
      expect([answer.status, answer.body.error?.code], `${method} ${path}`).toEqual([421, 'unknown_host']);
    }
    for (const host of [`localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`, `LOCALHOST:${port}`]) {
      expect((await withHost(app.url, 'GET', api.files, host)).status, host).toBe(200);
    }
    // Share pages are public: the link is the permission, whatever name it is opened under.
    expect((await withHost(app.url, 'GET', '/s/AAAAAAAAAAAAAAAAAAAAAA', rebound)).status).toBe(404);
  });

  it('checks the Host itself behind a trusted proxy too: a page cannot pass as localhost with X-Forwarded-Host', async () => {
    const proxied = await startTestPostbox({ TRUST_PROXY: 'loopback', ALLOWED_HOSTS: 'postbox_app' });
    try {
      const port = new URL(proxied.url).port;
      const asPage = { 'sec-fetch-site': 'same-origin', 'x-forwarded-host': 'localhost' };
      const forged = await withHost(proxied.url, 'POST', api.uploads, `rebind.attacker.example:${port}`, asPage, {
        name: 'a.txt',
        size: 1,
        type: 'text/plain',
      });
      expect([forged.status, forged.body.error?.code]).toEqual([421, 'unknown_host']);
      // A proxy that sends its upstream's name (listed) and the name people use (known) gets through.
      expect((await withHost(proxied.url, 'GET', api.files, 'postbox_app:8080', { 'x-forwarded-host': 'localhost' })).status).toBe(200);
      expect((await withHost(proxied.url, 'GET', api.files, 'postbox_app:8080', { 'x-forwarded-host': 'elsewhere.example' })).status).toBe(
        421,
      );
    } finally {
      await proxied.stop();
    }
  });

  it('limits signing per client: 429 rate_limited with Retry-After', async () => {
    const statuses: number[] = [];
    let last: Awaited<ReturnType<TestPostbox['call']>> | undefined;
    for (let i = 0; i < 8; i++) {
      last = await app.call('POST', api.uploads, { name: `${i}.txt`, size: 1, type: 'text/plain' });
      statuses.push(last.status);
    }
    expect(statuses).toContain(429);
    expect(statuses.filter((s) => s === 201).length).toBeLessThanOrEqual(5);
    expect(last!.body.error.code).toBe('rate_limited');
    expect(Number(last!.headers.get('retry-after'))).toBeGreaterThan(0);
    // Reading the file list is not limited; reads that cost storage a request per item are.
    expect((await app.call('GET', api.files)).status).toBe(200);
    expect((await app.call('GET', api.fileShares(someKey))).status).toBe(429);
    expect((await app.call('GET', `${api.multipartUploads}?olderThanSeconds=0`)).status).toBe(429);
  });

  it("sends API answers OWASP's headers for JSON: no sniffing, no framing, no caching, no cross-origin reads", async () => {
    const response = await fetch(`${app.url}${api.settings}`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-security-policy')).toBe("default-src 'none'; frame-ancestors 'none'");
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(response.headers.get('cross-origin-resource-policy')).toBe('same-origin');
    expect(response.headers.get('x-frame-options')).toBe('DENY');
    const refused = await fetch(`${app.url}/api/no-such-route`);
    expect([refused.status, refused.headers.get('cache-control')]).toEqual([404, 'no-store']);
  });

  it('sends pages security headers with a CSP that allows exactly the storage origin', async () => {
    // The SPA's page is served only from a build (dist/client), so its headers are checked on the
    // page middleware itself, and their wiring on a share page. The embedded store is the page's own origin.
    expect(app.storage.cspSource).toBe("'self'");
    const storageOrigin = 'https://files.example.com';
    const pages = express().use(securityHeaders(storageOrigin));
    pages.get('/', (_req, res) => {
      res.send('<!doctype html>');
    });
    const server = pages.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    const response = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`).finally(() => server.close());
    const csp = response.headers.get('content-security-policy')!;
    expect(csp).toContain(`connect-src 'self' ${storageOrigin}`);
    expect(csp).toContain(`form-action 'self' ${storageOrigin}`);
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');

    const sharePage = await fetch(`${app.url}/s/no-such-link`);
    expect(sharePage.headers.get('content-type')).toMatch(/^text\/html/);
    expect(sharePage.headers.get('cross-origin-opener-policy')).toBe('same-origin');
    expect(sharePage.headers.get('x-frame-options')).toBe('SAMEORIGIN');
  });
});

const cookieOf = (response: { headers: Headers }) => response.headers.get('set-cookie')?.split(';')[0];

/** Moves Date (only Date: timers and sockets run as usual) for the app in this process; always undone. */
async function atTime<T>(ms: number, run: () => Promise<T>): Promise<T> {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(ms);
  try {
    return await run();
  } finally {
    vi.useRealTimers();
  }
}

describe('sessions on two instances sharing one bucket', () => {
  const BUCKET = 'postbox-sessions';
  let s3: ThrowawayS3;
  let first: TestPostbox;
  let second: TestPostbox;
  let s3Stopped = false;
  const instance = (env: Record<string, string> = {}) =>
    startTestPostbox({ S3_BUCKET: BUCKET, S3_ENDPOINT: s3.endpoint, S3_FORCE_PATH_STYLE: 'true', POSTBOX_PASSWORD: PASSWORD, ...env });

  beforeAll(async () => {
    s3 = await startThrowawayS3(BUCKET);
    process.env.AWS_ACCESS_KEY_ID = EMBEDDED_CREDENTIALS.accessKeyId;
    process.env.AWS_SECRET_ACCESS_KEY = EMBEDDED_CREDENTIALS.secretAccessKey;
    first = await instance({ SESSION_IDLE_SECONDS: '120' });
    second = await instance();
  });
  afterAll(async () => {
    await first?.stop();
    await second?.stop();
    if (!s3Stopped) await s3?.stop();
  });

  const signIn = async (app: TestPostbox) => cookieOf(await app.call('POST', api.session, { password: PASSWORD }))!;
  const files = (app: TestPostbox, cookie: string) => app.call('GET', api.files, undefined, { cookie });

  it('share the per-install key: a cookie from one instance works on the other', async () => {
    const cookie = await signIn(first);
    expect((await files(second, cookie)).status).toBe(200);
  });

  it('a cookie replayed after sign-out gets 401 here at once, and on the other instance once its short cache has run out', async () => {
    const cookie = await signIn(first);
    const unseen = await signIn(first);
    const now = Date.now();
    await atTime(now, async () => {
      expect((await files(first, cookie)).status).toBe(200);
      expect((await files(second, cookie)).status).toBe(200); // the other instance now remembers "not revoked"
      for (const c of [cookie, unseen]) expect((await first.call('DELETE', api.session, undefined, { cookie: c })).status).toBe(204);
      expect((await files(first, cookie)).status).toBe(401);
      expect((await files(second, unseen)).status).toBe(401); // never seen there: looked up at once
    });
    await atTime(now + REVOCATION_CACHE_MS + 1, async () => {
      const replayed = await files(second, cookie);
      expect([replayed.status, replayed.body.error.code]).toEqual([401, 'unauthorized']);
      expect((await second.call('GET', api.session, undefined, { cookie })).body.signedIn).toBe(false);
    });
  });

  it('a session unused for SESSION_IDLE_SECONDS ends; used, its cookie is re-issued and lasts', async () => {
    const start = Date.now();
    const cookie = await atTime(start, () => signIn(first));
    const renewed = await atTime(start + 100_000, async () => {
      const used = await files(first, cookie);
      expect(used.status).toBe(200);
      expect(used.headers.get('set-cookie')).toMatch(/Max-Age=604700;.*HttpOnly;.*Secure;.*SameSite=Strict/);
      return cookieOf(used)!;
    });
    await atTime(start + 150_000, async () => {
      expect((await files(first, cookie)).status).toBe(401); // 150 s unused
      expect((await files(first, renewed)).status).toBe(200); // used 50 s ago
    });
    await atTime(start + 400_000, async () => {
      expect((await files(first, renewed)).status).toBe(401);
    });
  });

  it("a changed password ends every session, though the key stays the install's", async () => {
    const cookie = await signIn(first);
    const changed = await instance({ POSTBOX_PASSWORD: 'a new password for everyone' });
    try {
      expect((await files(changed, cookie)).status).toBe(401);
      expect((await files(second, cookie)).status).toBe(200); // the instance still on the old password
    } finally {
      await changed.stop();
    }
  });

  it('storage down during a session check: 503 storage_unavailable, not 500 and not "signed out"', async () => {
    const cookie = await signIn(first);
    await s3.stop();
    s3Stopped = true;
    const answer = await files(second, cookie);
    expect([answer.status, answer.body.error.code]).toEqual([503, 'storage_unavailable']);
    const out = await first.call('DELETE', api.session, undefined, { cookie });
    expect([out.status, out.body.error.code]).toEqual([503, 'storage_unavailable']);
    expect(out.headers.get('set-cookie')).toMatch(/^postbox_session=;/); // this browser is signed out all the same
  });
});

describe('failed sign-ins across many clients (a storm from one /48)', () => {
  let app: TestPostbox;
  beforeAll(async () => {
    app = await startTestPostbox({
      POSTBOX_PASSWORD: PASSWORD,
      POSTBOX_API_TOKENS: TOKEN,
      TRUST_PROXY: 'loopback',
      SIGN_IN_FAILURES_PER_MINUTE: '20',
    });
  });
  afterAll(() => app?.stop());

  /** 2001:db8:77:n::1, one client (a /64) each, all in one /48. */
  const client = (n: number) => ({ 'x-forwarded-for': `2001:db8:77:${n.toString(16)}::1` });
  const signIn = (n: number, password: string) => app.call('POST', api.session, { password }, client(n));

  it('are held back together: after the budget, 429 with Retry-After for everyone, the right password not even compared; it works once the storm stops', async () => {
    const start = Date.now();
    const signedInBefore = cookieOf(await signIn(1000, PASSWORD))!;
    await atTime(start, async () => {
      // 40 clients, 3 wrong passwords each, all at once: each stays under its own limit of 10.
      const answers = await Promise.all(Array.from({ length: 120 }, (_, i) => signIn(i % 40, `guess ${i}`)));
      const codes = answers.map((a) => a.body.error.code);
      expect(codes.filter((c) => c === 'invalid_credentials')).toHaveLength(20); // parallel guesses did not race past the count
      expect(codes.filter((c) => c === 'rate_limited')).toHaveLength(100);
      const refused = answers.find((a) => a.status === 429)!;
      expect(refused.headers.get('retry-after')).toBe('60');
      const right = await signIn(2000, PASSWORD);
      expect([right.status, right.body.error.code, right.headers.get('retry-after')]).toEqual([429, 'rate_limited', '60']);
      const token = await app.call('GET', api.files, undefined, { authorization: `Bearer ${TOKEN}`, ...client(2001) });
      expect(token.status).toBe(429);
      // People already signed in are not locked out.
      expect((await app.call('GET', api.files, undefined, { cookie: signedInBefore })).status).toBe(200);
    });
    await atTime(start + 61_000, async () => {
      const right = await signIn(2000, PASSWORD);
      expect(right.status).toBe(204);
      expect((await app.call('GET', api.files, undefined, { cookie: cookieOf(right)! })).status).toBe(200);
      // The storm comes back at once: the next pause is twice as long.
      for (let i = 0; i < 20; i++) expect((await signIn(3000 + i, `guess ${i}`)).status).toBe(401);
      expect((await signIn(4000, PASSWORD)).headers.get('retry-after')).toBe('120');
    });
  });
});

describe('wrong API tokens across many clients', () => {
  let app: TestPostbox;
  beforeAll(async () => {
    app = await startTestPostbox({
      POSTBOX_PASSWORD: PASSWORD,
      POSTBOX_API_TOKENS: TOKEN,
      TRUST_PROXY: 'loopback',
      SIGN_IN_FAILURES_PER_MINUTE: '20',
    });
  });
  afterAll(() => app?.stop());

  it('count against the same budget: a token storm from one /48 pauses token checks and password sign-in alike', async () => {
    const start = Date.now();
    await atTime(start, async () => {
      const from = (n: number, token: string) =>
        app.call('GET', api.files, undefined, { authorization: `Bearer ${token}`, 'x-forwarded-for': `2001:db8:99:${n.toString(16)}::7` });
      const answers = await Promise.all(Array.from({ length: 60 }, (_, i) => from(i, `guess-${i}-0123456789abcdef`)));
      expect(answers.filter((a) => a.status === 401)).toHaveLength(20);
      expect(answers.filter((a) => a.status === 429)).toHaveLength(40);
      expect((await from(100, TOKEN)).status).toBe(429);
      expect((await app.call('POST', api.session, { password: PASSWORD })).status).toBe(429);
    });
    await atTime(start + 61_000, async () => {
      expect((await app.call('GET', api.files, undefined, { authorization: `Bearer ${TOKEN}` })).status).toBe(200);
    });
  });
});

describe('one client racing its own counter', () => {
  let app: TestPostbox;
  beforeAll(async () => {
    app = await startTestPostbox({ POSTBOX_PASSWORD: PASSWORD, TRUST_PROXY: 'loopback' });
  });
  afterAll(() => app?.stop());

  it('30 wrong passwords at once from one address: 10 are compared, 20 get 429', async () => {
    const answers = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        app.call('POST', api.session, { password: `guess ${i}` }, { 'x-forwarded-for': '198.51.100.4' }),
      ),
    );
    expect(answers.filter((a) => a.status === 401)).toHaveLength(10);
    expect(answers.filter((a) => a.status === 429)).toHaveLength(20);
  });

  it('sign-in and sign-out only from the page itself: a cross-site form or DELETE gets 403 and changes nothing', async () => {
    const form = await app.call('POST', api.session, `password=${encodeURIComponent(PASSWORD)}`, {
      'content-type': 'application/x-www-form-urlencoded',
      'sec-fetch-site': 'cross-site',
      origin: 'https://evil.example',
    });
    expect([form.status, form.body.error.code, form.headers.get('set-cookie')]).toEqual([403, 'forbidden', null]);
    const cookie = cookieOf(await app.call('POST', api.session, { password: PASSWORD }, { 'x-forwarded-for': '198.51.100.5' }))!;
    const out = await app.call('DELETE', api.session, undefined, {
      cookie,
      'sec-fetch-site': 'cross-site',
      origin: 'https://evil.example',
    });
    expect([out.status, out.body.error.code]).toEqual([403, 'forbidden']);
    expect((await app.call('GET', api.files, undefined, { cookie })).status).toBe(200);
  });
});

describe('the Secure flag of the session cookie', () => {
  const signInAs = async (env: Record<string, string>, host: (port: string) => string, headers: Record<string, string> = {}) => {
    const app = await startTestPostbox({ POSTBOX_PASSWORD: PASSWORD, ...env });
    try {
      const answer = await withHost(app.url, 'POST', api.session, host(new URL(app.url).port), headers, { password: PASSWORD });
      expect(answer.status).toBe(204);
      return String(answer.headers['set-cookie']);
    } finally {
      await app.stop();
    }
  };

  it('is set behind a TLS proxy that is not trusted (PUBLIC_URL https), reached by IP', async () => {
    expect(await signInAs({ PUBLIC_URL: 'https://postbox.example' }, (port) => `192.0.2.10:${port}`)).toMatch(/; Secure/);
  });

  it('is set when a trusted proxy says the request was https', async () => {
    expect(await signInAs({ TRUST_PROXY: 'loopback' }, (port) => `192.0.2.10:${port}`, { 'x-forwarded-proto': 'https' })).toMatch(
      /; Secure/,
    );
  });

  it('is not set for plain HTTP reached by a LAN address (the browser would drop the cookie)', async () => {
    expect(await signInAs({}, (port) => `192.0.2.10:${port}`)).not.toMatch(/Secure/);
  });
});

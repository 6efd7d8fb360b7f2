import http, { type IncomingHttpHeaders } from 'node:http';
import net from 'node:net';
import express, { type RequestHandler } from 'express';
import { afterEach, describe, expect, it } from 'vitest';
import { errorHandler } from '../errors/error-handler.ts';
import { listenOnLoopback, type Listening } from '../integration/loopback.ts';
import { apiHeaders, knownHostsOnly, perClientLimit, sameOriginOnly, securityHeaders } from './security.ts';

/*
 * Each middleware alone in front of one route on a tiny Express app, over real HTTP: a request it
 * lets through gets 200 {ok:true}, one it stops gets the AppError's status and code.
 * Mutants that survive these tests and are equivalent (npm run test:mutation): dropping .trim() of
 * the Host (Node trims header values) or changing its '' fallback; the anchors of the [IPv6] regex
 * (what is left around the brackets is never an IP); the shortcuts that skip req.host / req.ip when no
 * X-Forwarded-* header is sent (they are the Host / socket address then); sameOriginOnly's default [];
 * the fallbacks of perClientLimit's handler for a request without express-rate-limit's `rateLimit` info
 * (express-rate-limit always sets it before calling the handler).
 */

interface Answer {
  status: number;
  code?: string;
  message?: string;
  headers: IncomingHttpHeaders;
}

const servers: Listening[] = [];
afterEach(() => {
  for (const server of servers.splice(0)) server.close();
});

async function serve(middleware: RequestHandler, trustProxy: boolean | string = false): Promise<Listening> {
  const app = express();
  app.set('trust proxy', trustProxy);
  app.use(middleware);
  app.all('/thing', (_req, res) => {
    res.json({ ok: true });
  });
  app.use(errorHandler);
  const listening = await listenOnLoopback(http.createServer(app));
  servers.push(listening);
  return listening;
}

/** node:http rather than fetch: fetch will not send a Host of our choosing. */
function send(server: Listening, method: string, headers: Record<string, string> = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const request = http.request({ host: '127.0.0.1', port: server.port, path: '/thing', method, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        const body = text ? (JSON.parse(text) as { error?: { code: string; message: string } }) : {};
        resolve({ status: res.statusCode ?? 0, code: body.error?.code, message: body.error?.message, headers: res.headers });
      });
    });
    request.on('error', reject);
    request.end();
  });
}

/** The first line of the answer to a request written by hand (node:http always sends a Host). */
function sendRaw(server: Listening, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(server.port, '127.0.0.1', () => socket.end(request));
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('end', () => resolve(Buffer.concat(chunks).toString('latin1').split('\r\n')[0] ?? ''));
    socket.on('error', reject);
  });
}

const outcome = (answer: Answer) => [answer.status, answer.code];
const PASSED = [200, undefined];
const FORBIDDEN = [403, 'forbidden'];

describe('sameOriginOnly', () => {
  const STATE_CHANGING = ['POST', 'PUT', 'PATCH', 'DELETE'];

  it.each(['same-site', 'cross-site'])('refuses every state-changing method with Sec-Fetch-Site: %s', async (site) => {
    const server = await serve(sameOriginOnly());
    for (const method of STATE_CHANGING) {
      expect(outcome(await send(server, method, { 'sec-fetch-site': site })), method).toEqual(FORBIDDEN);
      // The page's own Origin beside it changes nothing: the browser said the request is not same-origin.
      expect(outcome(await send(server, method, { 'sec-fetch-site': site, origin: server.base })), method).toEqual(FORBIDDEN);
    }
  });

  it('refuses a Sec-Fetch-Site value it does not know, spelled differently or not', async () => {
    const server = await serve(sameOriginOnly());
    for (const site of ['SAME-ORIGIN', 'same-origin ,cross-site', 'bogus', '']) {
      expect(outcome(await send(server, 'POST', { 'sec-fetch-site': site, origin: server.base })), site).toEqual(FORBIDDEN);
    }
  });

  it('lets through same-origin and none (typed in, bookmarks): the browser vouches for them', async () => {
    const server = await serve(sameOriginOnly());
    for (const method of STATE_CHANGING) {
      expect(outcome(await send(server, method, { 'sec-fetch-site': 'same-origin', origin: server.base })), method).toEqual(PASSED);
      expect(outcome(await send(server, method, { 'sec-fetch-site': 'none' })), method).toEqual(PASSED);
    }
  });

  it('never stops reading methods, whatever the browser says', async () => {
    const server = await serve(sameOriginOnly());
    for (const method of ['GET', 'HEAD', 'OPTIONS']) {
      const answer = await send(server, method, { 'sec-fetch-site': 'cross-site', origin: 'https://evil.example' });
      expect(answer.status, method).toBe(200);
    }
  });

  it('without Sec-Fetch-Site (older browsers) judges by Origin: a foreign one is refused', async () => {
    const server = await serve(sameOriginOnly());
    for (const method of STATE_CHANGING) {
      expect(outcome(await send(server, method, { origin: 'https://evil.example' })), method).toEqual(FORBIDDEN);
    }
  });

  it('says why in its answer', async () => {
    const server = await serve(sameOriginOnly());
    expect((await send(server, 'POST', { 'sec-fetch-site': 'cross-site' })).message).toMatch(/must come from the Postbox page/);
  });

  it('refuses Origin: null (sandboxed frames, data: pages, some redirects)', async () => {
    const server = await serve(sameOriginOnly());
    expect(outcome(await send(server, 'POST', { origin: 'null' }))).toEqual(FORBIDDEN);
  });

  it('refuses an Origin on the same host but another port or scheme: another origin', async () => {
    const server = await serve(sameOriginOnly());
    const { port } = server;
    const others = [`http://127.0.0.1:${port + 1}`, 'http://127.0.0.1', `https://127.0.0.1:${port}`, `http://localhost:${port}`];
    for (const origin of others) {
      expect(outcome(await send(server, 'POST', { origin })), origin).toEqual(FORBIDDEN);
    }
  });

  it('lets through its own Origin, and a script that sends neither header', async () => {
    const server = await serve(sameOriginOnly());
    expect(outcome(await send(server, 'POST', { origin: server.base }))).toEqual(PASSED);
    expect(outcome(await send(server, 'DELETE'))).toEqual(PASSED);
  });

  it('refuses any Origin when the Host is not a plain host (no origin of its own to compare with)', async () => {
    const server = await serve(sameOriginOnly());
    expect(outcome(await send(server, 'POST', { host: 'a b', origin: 'http://a b' }))).toEqual(FORBIDDEN);
  });

  it("lets PUBLIC_URL's origin through even when the browser calls it cross-site, and no other", async () => {
    const publicUrl = 'https://postbox.example.com';
    const server = await serve(sameOriginOnly([publicUrl]));
    expect(outcome(await send(server, 'POST', { 'sec-fetch-site': 'cross-site', origin: publicUrl }))).toEqual(PASSED);
    expect(outcome(await send(server, 'POST', { 'sec-fetch-site': 'same-site', origin: publicUrl }))).toEqual(PASSED);
    expect(outcome(await send(server, 'PUT', { origin: publicUrl }))).toEqual(PASSED);
    for (const origin of ['https://evil.example', 'https://postbox.example.com:8443', 'http://postbox.example.com', 'null']) {
      expect(outcome(await send(server, 'POST', { 'sec-fetch-site': 'cross-site', origin })), origin).toEqual(FORBIDDEN);
    }
    // Cross-site without any Origin cannot be matched to the allowed one.
    expect(outcome(await send(server, 'POST', { 'sec-fetch-site': 'cross-site' }))).toEqual(FORBIDDEN);
  });
});

describe('knownHostsOnly', () => {
  const UNKNOWN = [421, 'unknown_host'];

  it('answers under any Host with *', async () => {
    const server = await serve(knownHostsOnly('*'));
    expect(outcome(await send(server, 'GET', { host: 'anything.example' }))).toEqual(PASSED);
  });

  it('answers under a listed name (any port, any case) and IP addresses, not under other names', async () => {
    const server = await serve(knownHostsOnly(['postbox.example']));
    const known = ['postbox.example', 'postbox.example:8080', 'POSTBOX.Example:1', `127.0.0.1:${server.port}`, '[::1]:80', '10.1.2.3'];
    for (const host of known) {
      expect(outcome(await send(server, 'GET', { host })), host).toEqual(PASSED);
    }
    for (const host of ['evil.example', 'postbox.example.evil.example', 'sub.postbox.example:8080', '[not-an-ip]', 'postbox.example:x']) {
      expect(outcome(await send(server, 'GET', { host })), host).toEqual(UNKNOWN);
    }
  });

  it('tells the operator which setting serves another name', async () => {
    const server = await serve(knownHostsOnly(['postbox.example']));
    expect((await send(server, 'GET', { host: 'evil.example' })).message).toMatch(/PUBLIC_URL or ALLOWED_HOSTS/);
  });

  it('refuses a request without any Host (HTTP/1.0) with 421, not a crash', async () => {
    const server = await serve(knownHostsOnly(['postbox.example']));
    expect(await sendRaw(server, 'GET /thing HTTP/1.0\r\n\r\n')).toBe('HTTP/1.1 421 Misdirected Request');
  });

  it('ignores X-Forwarded-Host from a sender it does not trust', async () => {
    const server = await serve(knownHostsOnly(['postbox.example']));
    expect(outcome(await send(server, 'GET', { host: 'postbox.example', 'x-forwarded-host': 'evil.example' }))).toEqual(PASSED);
    expect(outcome(await send(server, 'GET', { host: 'evil.example', 'x-forwarded-host': 'postbox.example' }))).toEqual(UNKNOWN);
  });

  it("behind a trusted proxy needs both the Host and the proxy's X-Forwarded-Host known", async () => {
    const server = await serve(knownHostsOnly(['upstream', 'postbox.example']), 'loopback');
    expect(outcome(await send(server, 'GET', { host: 'upstream:8080', 'x-forwarded-host': 'postbox.example' }))).toEqual(PASSED);
    expect(outcome(await send(server, 'GET', { host: 'upstream:8080', 'x-forwarded-host': 'evil.example' }))).toEqual(UNKNOWN);
    expect(outcome(await send(server, 'GET', { host: 'evil.example', 'x-forwarded-host': 'postbox.example' }))).toEqual(UNKNOWN);
  });
});

describe('apiHeaders', () => {
  it('sends the REST headers: no sniffing, no framing, no caching, no cross-origin reads', async () => {
    const { headers } = await send(await serve(apiHeaders()), 'GET');
    expect(headers['content-security-policy']).toBe("default-src 'none'; frame-ancestors 'none'");
    expect(headers['x-frame-options']).toBe('DENY');
    expect(headers['x-content-type-options']).toBe('nosniff');
    expect(headers['cache-control']).toBe('no-store');
    expect(headers['cross-origin-resource-policy']).toBe('same-origin');
  });
});

describe('securityHeaders', () => {
  it("lets pages reach only their own origin and the storage's, and upgrades nothing to HTTPS", async () => {
    const { headers } = await send(await serve(securityHeaders('http://127.0.0.1:9000')), 'GET');
    const csp = Object.fromEntries(
      String(headers['content-security-policy'])
        .split(';')
        .map((directive) => directive.trim().split(/\s+/))
        .map(([name, ...values]) => [name, values.join(' ')]),
    );
    expect(csp).toEqual({
      'default-src': "'self'",
      'script-src': "'self' 'wasm-unsafe-eval'",
      'style-src': "'self'",
      'img-src': "'self' http://127.0.0.1:9000 data:",
      'media-src': "'self' http://127.0.0.1:9000",
      'font-src': "'self'",
      'connect-src': "'self' http://127.0.0.1:9000",
      'form-action': "'self' http://127.0.0.1:9000",
      'frame-ancestors': "'none'",
      'object-src': "'none'",
      'base-uri': "'none'",
    });
    expect(headers['strict-transport-security']).toBeUndefined();
    expect(headers['x-content-type-options']).toBe('nosniff');
  });
});

describe('perClientLimit', () => {
  const LIMITED = [429, 'rate_limited'];

  it('lets `perMinute` requests through, then answers 429 with Retry-After', async () => {
    const server = await serve(perClientLimit(2, 'slow down'));
    expect(outcome(await send(server, 'POST'))).toEqual(PASSED);
    expect(outcome(await send(server, 'POST'))).toEqual(PASSED);
    const limited = await send(server, 'POST');
    expect(outcome(limited)).toEqual(LIMITED);
    const retryAfter = Number(limited.headers['retry-after']);
    expect(retryAfter).toBeGreaterThan(55); // the rest of the fresh minute, not a token second
    expect(retryAfter).toBeLessThanOrEqual(60);
    // Our own answer only: no RateLimit-* headers telling a client the exact budget left.
    for (const response of [limited, await send(server, 'POST')]) {
      expect(Object.keys(response.headers).filter((name) => /ratelimit/i.test(name))).toEqual([]);
    }
  });

  it('limits nothing with 0', async () => {
    const server = await serve(perClientLimit(0, 'slow down'));
    for (let i = 0; i < 5; i++) expect(outcome(await send(server, 'POST'))).toEqual(PASSED);
  });

  it('counts by socket address when the proxy is not trusted: a forged X-Forwarded-For gets no fresh count', async () => {
    const server = await serve(perClientLimit(1, 'slow down'));
    expect(outcome(await send(server, 'POST', { 'x-forwarded-for': '203.0.113.1' }))).toEqual(PASSED);
    expect(outcome(await send(server, 'POST', { 'x-forwarded-for': '203.0.113.2' }))).toEqual(LIMITED);
  });

  it('counts each client behind a trusted proxy by X-Forwarded-For', async () => {
    const server = await serve(perClientLimit(1, 'slow down'), 'loopback');
    expect(outcome(await send(server, 'POST', { 'x-forwarded-for': '203.0.113.1' }))).toEqual(PASSED);
    expect(outcome(await send(server, 'POST', { 'x-forwarded-for': '203.0.113.2' }))).toEqual(PASSED);
    expect(outcome(await send(server, 'POST', { 'x-forwarded-for': '203.0.113.1' }))).toEqual(LIMITED);
  });
});

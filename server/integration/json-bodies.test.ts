import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, UploadPolicy } from '../../contract/api.ts';
import { startTestPostbox, type TestPostbox } from './harness.ts';

/** How the API reads request bodies (express.json behind a small check), against the real app. */

const SMALL_LIMIT = 16 * 1024;
let app: TestPostbox;
let locked: TestPostbox;

beforeAll(async () => {
  [app, locked] = await Promise.all([startTestPostbox(), startTestPostbox({ POSTBOX_API_TOKENS: 'a-token-of-at-least-16-chars' })]);
});
afterAll(() => Promise.all([app?.stop(), locked?.stop()]));

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  code?: string;
  /** The parsed JSON answer; each test reads it through the contract's schema for that answer. */
  body: unknown;
}

/**
 * Sends one request with node:http (so that headers such as Connection and Transfer-Encoding are
 * exactly as given) and resolves with the answer. `body` undefined: only the headers are sent, and
 * the request stays open until the answer has come.
 */
function send(
  base: string,
  method: string,
  path: string,
  headers: Record<string, string | number>,
  body?: string | string[],
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const request = http.request(base + path, { method, headers, agent: false }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        const parsed = text ? JSON.parse(text) : undefined;
        resolve({ status: response.statusCode!, headers: response.headers, code: parsed?.error?.code, body: parsed });
        request.destroy();
      });
    });
    request.on('error', reject);
    if (body === undefined) return request.flushHeaders();
    for (const piece of typeof body === 'string' ? [body] : body) request.write(piece);
    request.end();
  });
}

const upload = { name: 'Überweisung – März 2026.pdf', size: 42, type: 'application/pdf' };
const text = JSON.stringify(upload);
const json = { 'content-type': 'application/json' };
const post = (headers: Record<string, string | number>, body?: string | string[]) => send(app.url, 'POST', api.uploads, headers, body);

describe('API request bodies', () => {
  it('reads UTF-8 JSON, with or without a charset, a byte order mark or chunked transfer', async () => {
    expect((await post(json, text)).status).toBe(201);
    expect((await post({ 'content-type': 'Application/JSON; Charset="UTF-8"' }, `\uFEFF${text}`)).status).toBe(201);
    const chunked = await post({ ...json, 'transfer-encoding': 'chunked' }, [text.slice(0, 7), text.slice(7)]);
    expect(chunked.status).toBe(201);
    expect(UploadPolicy.parse(chunked.body).fields['x-amz-meta-original-name']).toBe(encodeURIComponent(upload.name));
  });

  it('refuses another content type, charset or encoding with 415 json_required', async () => {
    for (const headers of <Record<string, string>[]>[
      { 'content-type': 'text/plain' },
      { 'content-type': 'application/x-www-form-urlencoded' },
      { 'content-type': 'multipart/form-data; boundary=x' },
      { 'content-type': 'application/merge-patch+json' },
      { 'content-type': 'application/json; charset=iso-8859-1' },
      { 'content-type': 'application/json; charset=utf-16' },
      { ...json, 'content-encoding': 'gzip' },
      { ...json, 'content-encoding': 'deflate' },
      {},
    ]) {
      const answer = await post(headers, text);
      expect([answer.status, answer.code], JSON.stringify(headers)).toEqual([415, 'json_required']);
    }
  });

  it('refuses malformed JSON and a bare scalar with 400 invalid_json', async () => {
    for (const body of ['{"name": ', '{name: 1}', '"a.txt"', '42', 'null', 'true', '  7 ', '\uFEFF"x"']) {
      const answer = await post(json, body);
      expect([answer.status, answer.code], body).toEqual([400, 'invalid_json']);
    }
  });

  it('answers a declared length past the limit with 413 and Connection: close, without reading the body', async () => {
    // Only the headers are sent: the answer comes without the body.
    const answer = await post({ ...json, 'content-length': 10 * 1024 * 1024 });
    expect([answer.status, answer.code, answer.headers.connection]).toEqual([413, 'body_too_large', 'close']);
  });

  it('answers a chunked body past the limit with 413 and Connection: close', async () => {
    const big = JSON.stringify({ ...upload, name: 'x'.repeat(SMALL_LIMIT) });
    const answer = await post({ ...json, 'transfer-encoding': 'chunked' }, [big.slice(0, 1000), big.slice(1000)]);
    expect([answer.status, answer.code, answer.headers.connection]).toEqual([413, 'body_too_large', 'close']);
  });

  it('reads a body of just under the limit', async () => {
    const padded = JSON.stringify({ ...upload, name: 'a'.repeat(200) });
    const body = padded.slice(0, -1) + ' '.repeat(SMALL_LIMIT - Buffer.byteLength(padded)) + '}';
    expect(Buffer.byteLength(body)).toBe(SMALL_LIMIT);
    expect((await post(json, body)).status).toBe(201);
    const over = await post(json, body + ' ');
    expect([over.status, over.code]).toEqual([413, 'body_too_large']);
  });

  it('lets a request without a body through (Content-Length: 0 and no type, as browsers send it)', async () => {
    expect((await send(app.url, 'DELETE', api.session, { 'content-length': 0 })).status).toBe(204);
    const empty = await send(app.url, 'POST', api.fileLink('uploads/x/text/plain/a.txt'), { 'content-length': 0 });
    expect(empty.code).not.toBe('json_required');
  });
});

describe("a Complete's body", () => {
  const parts = Array.from({ length: 2000 }, (_, i) => ({ partNumber: i + 1, etag: `"${'0'.repeat(32)}"` }));
  const complete = JSON.stringify({ key: 'uploads/0abc-0123456789abcdef/text/plain/a.txt', uploadId: 'not-an-upload', parts });

  it('may be larger than the small limit', async () => {
    expect(Buffer.byteLength(complete)).toBeGreaterThan(4 * SMALL_LIMIT);
    for (const path of [api.multipartComplete, api.multipartComplete.toUpperCase().replace('/API/', '/api/') + '/']) {
      const answer = await send(app.url, 'POST', path, json, complete);
      expect(answer.status, path).not.toBe(413);
      expect(answer.code, path).not.toMatch(/json|body_too_large/);
    }
  });

  it('is read only after sign-in when access is locked', async () => {
    // Only the headers are sent: a 401 without the body proves it was not waited for.
    const anonymous = await send(locked.url, 'POST', api.multipartComplete, { ...json, 'content-length': Buffer.byteLength(complete) });
    expect([anonymous.status, anonymous.code]).toEqual([401, 'unauthorized']);
    const signedIn = await send(
      locked.url,
      'POST',
      api.multipartComplete,
      { ...json, authorization: 'Bearer a-token-of-at-least-16-chars' },
      complete,
    );
    expect(signedIn.status).not.toBe(413);
    expect(signedIn.code).not.toMatch(/json|body_too_large|unauthorized/);
  });

  it('has its own limit', async () => {
    const huge = await send(app.url, 'POST', api.multipartComplete, { ...json, 'content-length': 100 * 1024 * 1024 });
    expect([huge.status, huge.code, huge.headers.connection]).toEqual([413, 'body_too_large', 'close']);
  });
});

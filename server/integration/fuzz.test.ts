import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, ErrorBody, UploadPolicy } from '../../contract/api.ts';
import { sanitizeFilename } from '../signing/filenames.ts';
import { parseUploadKey } from '../signing/object-keys.ts';
import { startTestPostbox, type TestPostbox } from './harness.ts';

/**
 * Thousands of malformed bodies, headers, filenames and parameters at every endpoint: never a 5xx,
 * never a crash, always a JSON answer (an error body for every 4xx), and every policy signed is for
 * a key the server made, exactly, under a clean name.
 */
const RUNS = 400;
let app: TestPostbox;
const tally = { requests: 0, serverErrors: 0, byStatus: new Map<number, number>() };

beforeAll(async () => {
  app = await startTestPostbox({ RATE_LIMIT_PER_MINUTE: '0', POSTBOX_API_TOKENS: 'fuzz-token-0123456789abcdef' });
});
afterAll(async () => {
  console.log(
    `fuzz: ${tally.requests} requests, ${tally.serverErrors} answered 5xx; by status: ${[...tally.byStatus]
      .sort()
      .map(([s, n]) => `${s}×${n}`)
      .join(' ')}`,
  );
  await app?.stop();
});

const auth = { authorization: 'Bearer fuzz-token-0123456789abcdef' };

async function send(method: string, path: string, init: { body?: string; headers?: Record<string, string> } = {}) {
  const response = await fetch(app.url + path, { method, body: init.body, headers: { ...auth, ...init.headers } });
  const text = await response.text();
  tally.requests += 1;
  tally.byStatus.set(response.status, (tally.byStatus.get(response.status) ?? 0) + 1);
  if (response.status >= 500) tally.serverErrors += 1;
  expect(response.status, `${method} ${path} ${init.body?.slice(0, 200)} → ${text.slice(0, 300)}`).toBeLessThan(500);
  // A path like /api/.. is normalised by the client to / (the page itself): only the API must answer JSON.
  if (response.status === 204 || !new URL(response.url).pathname.startsWith('/api/')) return;
  expect(response.headers.get('content-type')).toMatch(/^application\/json/);
  const json = JSON.parse(text);
  if (response.status >= 400) expect(ErrorBody.safeParse(json).success, text).toBe(true);
  if (response.status === 201 && path === api.uploads) expectSoundPolicy(json, init.body);
}

/** A signed upload: its key is one the server made (it parses), the form posts exactly it, and its name is clean. */
function expectSoundPolicy(json: unknown, body: string | undefined) {
  const policy = UploadPolicy.parse(json);
  const parts = parseUploadKey(policy.key);
  expect(parts, `${policy.key} (from ${body?.slice(0, 200)})`).toBeDefined();
  expect(policy.fields.key).toBe(policy.key);
  const conditions: unknown[] = JSON.parse(Buffer.from(policy.fields.Policy!, 'base64').toString('utf8')).conditions;
  expect(conditions).toContainEqual({ key: policy.key });
  expect(conditions.filter((c) => Array.isArray(c) && c[0] !== 'content-length-range')).toEqual([]);
  expect(parts!.name).not.toMatch(/[\p{Cc}\p{Cf}/\\]|\$\{/u);
  expect(parts!.name).toBe(sanitizeFilename(parts!.name)); // already clean: sanitising again changes nothing
  expect(parts!.name.trim()).not.toMatch(/^\.*$/);
}

// Strings with everything a filename can hold: any code point, lone surrogates, controls, separators.
const nastyString = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 300 }),
  fc.string({
    unit: fc.constantFrom('/', '\\', '.', '\u0000', '\u202e', '\ud800', '\udfff', '%', '\n', '"', '<', '>', ' ', '$', '{', '}', '\u200b'),
    maxLength: 40,
  }),
  fc.constantFrom(
    '',
    '.',
    '..',
    '../../etc/passwd',
    'CON',
    'a'.repeat(5000),
    '\ud83d',
    'é'.repeat(600),
    '${filename}',
    '$key',
    '%2e%2e/x',
    '.env',
  ),
);
const anyJson = fc.oneof(
  fc.jsonValue(),
  fc.anything().map((v) => JSON.parse(JSON.stringify(v ?? null))),
);
const uploadLike = fc.record(
  {
    name: fc.oneof(nastyString, anyJson),
    size: fc.oneof(fc.integer(), fc.double(), fc.bigInt().map(String), anyJson),
    type: fc.oneof(nastyString, fc.constantFrom('text/plain', 'image/svg+xml', 'text/html; charset=utf-8', 'x/y/z'), anyJson),
    extra: anyJson,
  },
  { requiredKeys: [] },
);
const body = fc.oneof(
  uploadLike.map((v) => JSON.stringify(v)),
  anyJson.map((v) => JSON.stringify(v)),
  fc.string({ unit: 'binary', maxLength: 200 }),
  fc.constantFrom('', '{', '[', 'null', '{"name":', '\u0000', '{"__proto__":{"x":1}}', '{"constructor":{"prototype":{}}}'),
);
const contentType = fc.constantFrom(
  'application/json',
  'application/json; charset=utf-8',
  'application/json; charset=latin1',
  'application/json; charset=utf-16',
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/merge-patch+json',
  'garbage',
);
const pathSegment = nastyString.map((s) => {
  try {
    return encodeURIComponent(s);
  } catch {
    return '%ED%A0%80'; // a lone surrogate, percent-encoded
  }
});
const rawSegment = fc.constantFrom('%', '%zz', '%E0%A4%A', '..', '%2e%2e', '%00', '%2F..%2F', 'uploads%2F..%2Fx');

const property = <Ts extends [unknown, ...unknown[]]>(
  run: (...args: Ts) => Promise<void>,
  ...arbitraries: { [K in keyof Ts]: fc.Arbitrary<Ts[K]> }
) => fc.assert(fc.asyncProperty(...arbitraries, run), { numRuns: RUNS });

describe('malformed input never gets a 5xx', () => {
  it('POST /api/uploads: bodies and content types', () =>
    property((b: string, ct: string) => send('POST', api.uploads, { body: b, headers: { 'content-type': ct } }), body, contentType));

  it('POST /api/uploads: hostile filenames and types in well-formed requests', () =>
    property(
      (name: string, type: string, size: number) =>
        send('POST', api.uploads, { body: JSON.stringify({ name, type, size }), headers: { 'content-type': 'application/json' } }),
      nastyString,
      fc.oneof(nastyString, fc.constantFrom('text/plain', 'image/png', 'text/html')),
      fc.integer({ min: 0, max: 2 ** 40 }),
    ));

  it('POST /api/uploads: any name of an acceptable file gets a policy for exactly its own key, under a clean name', () =>
    property(async (name: string) => {
      const response = await fetch(app.url + api.uploads, {
        method: 'POST',
        body: JSON.stringify({ name, size: 10, type: 'text/plain' }),
        headers: { ...auth, 'content-type': 'application/json' },
      });
      expect(response.status, JSON.stringify(name)).toBe(name.length >= 1 && name.length <= 1024 ? 201 : 400);
      if (response.status === 201) expectSoundPolicy(await response.json(), JSON.stringify(name));
    }, nastyString));

  it('GET /api/files: query strings', () =>
    property(
      (query: Record<string, string>) => send('GET', `${api.files}?${new URLSearchParams(query).toString()}`),
      fc.dictionary(fc.constantFrom('limit', 'cursor', 'x', '__proto__', 'limit[]'), nastyString, { maxKeys: 3 }),
    ));

  it('POST /api/files/:key/link and DELETE /api/files/:key: keys and bodies', () =>
    property(
      async (segment: string, b: string) => {
        await send('POST', `/api/files/${segment}/link`, { body: b, headers: { 'content-type': 'application/json' } });
        await send('DELETE', `/api/files/${segment}`);
      },
      fc.oneof(pathSegment, rawSegment),
      body,
    ));

  it('POST /api/session and unknown routes', () =>
    property(
      async (b: string, segment: string, method: string) => {
        await send('POST', api.session, { body: b, headers: { 'content-type': 'application/json' } });
        await send(method, `/api/${segment}`);
      },
      body,
      fc.oneof(pathSegment, rawSegment),
      fc.constantFrom('GET', 'POST', 'DELETE', 'PUT', 'PATCH'),
    ));

  it('hostile headers on every endpoint', () =>
    property(
      async (headers: Record<string, string>, path: string) => {
        await send('POST', path, { body: '{}', headers: { 'content-type': 'application/json', ...headers } });
        await send('GET', path, { headers });
      },
      fc.dictionary(
        fc.constantFrom(
          'origin',
          'sec-fetch-site',
          'cookie',
          'authorization',
          'x-forwarded-for',
          'accept',
          'content-encoding',
          'range',
          'if-none-match',
        ),
        fc.string({
          unit: fc.constantFrom('a', '=', ';', ',', ' ', '/', ':', '0', 'é'.normalize('NFD')[0]!, '%', 'gzip', 'null'),
          maxLength: 30,
        }),
        { maxKeys: 4 },
      ),
      fc.constantFrom(api.uploads, api.files, api.session, api.settings, api.health, api.fileLink('x')),
    ));
});

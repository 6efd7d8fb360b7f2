import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
// s3rver's own error type: thrown from a middleware, it becomes a proper S3 XML error response.
import S3Error from 's3rver/lib/models/error.js';
import { checkPath } from './embedded-paths.ts';

/**
 * AWS Signature Version 4, checked as S3 checks it, for the embedded store. s3rver 3.7 lets
 * anonymous requests through and never computes a V4 signature (any signature passes), and it
 * answers whatever Host a request names. This module refuses both: every request must come to a
 * host the store serves and carry a valid SigV4 signature (header or query), except CORS
 * preflights and browser form POSTs (those carry a signed policy: embedded-post-policy.ts).
 *
 * The canonical request is built from the request as the client sent it (`req.originalUrl` when
 * the store is mounted under a path, the Host header), not from s3rver's view of it.
 */

export interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
}

export interface SignedRequest {
  method: string;
  /** The request target as sent: path and query, e.g. `/storage/bucket/a%20b?partNumber=1`. */
  target: string;
  /** `IncomingMessage.rawHeaders`: names and values, alternating. */
  rawHeaders: string[];
}

const ALGORITHM = 'AWS4-HMAC-SHA256';
/** Header auth: the request's date may be this far from the store's clock (S3's 15 minutes). */
const MAX_SKEW_MS = 15 * 60_000;
/** Query auth: X-Amz-Expires at most a week (S3's limit). */
const MAX_EXPIRES_S = 604_800;
const PAYLOAD_HASHES = new Set([
  'UNSIGNED-PAYLOAD',
  'STREAMING-UNSIGNED-PAYLOAD-TRAILER',
  'STREAMING-AWS4-HMAC-SHA256-PAYLOAD',
  'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER',
]);
const QUERY_AUTH = ['X-Amz-Algorithm', 'X-Amz-Credential', 'X-Amz-Date', 'X-Amz-Expires', 'X-Amz-SignedHeaders', 'X-Amz-Signature'];

const refuse = (code: string, message: string): never => {
  throw new S3Error(code, message);
};
const mismatch = () =>
  refuse(
    'SignatureDoesNotMatch',
    'The request signature we calculated does not match the signature you provided. Check your key and signing method.',
  );
const hmac = (key: string | Buffer, data: string) => createHmac('sha256', key).update(data).digest();

/** SigV4's URI encoding: every byte but A–Z a–z 0–9 - . _ ~ percent-encoded, upper-case hex. */
export function uriEncode(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function decode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return refuse('InvalidURI', "Couldn't parse the specified URI.");
  }
}

/** Splits an origin-form request target (`/path?query`); anything else (absolute-form, `*`) is refused. */
export function splitTarget(target: string): { path: string; query: string } {
  if (!target.startsWith('/')) refuse('InvalidURI', "Couldn't parse the specified URI.");
  const at = target.indexOf('?');
  return at === -1 ? { path: target, query: '' } : { path: target.slice(0, at), query: target.slice(at + 1) };
}

/** S3's canonical URI: each segment decoded once and encoded once (S3 does not encode twice). */
export function canonicalUri(path: string): string {
  return path
    .split('/')
    .map((segment) => uriEncode(decode(segment)))
    .join('/');
}

/**
 * The query's parameters, decoded as s3rver reads them (`+` is a space). A parameter named twice is
 * refused: the signature would cover both values while s3rver acts on one of them.
 */
export function parseQuery(query: string): Map<string, string> {
  const params = new Map<string, string>();
  for (const pair of query.split('&')) {
    if (pair === '') continue;
    const at = pair.indexOf('=');
    const name = decode((at === -1 ? pair : pair.slice(0, at)).replace(/\+/g, ' '));
    const value = at === -1 ? '' : decode(pair.slice(at + 1).replace(/\+/g, ' '));
    if (params.has(name)) refuse('InvalidArgument', `The query parameter ${JSON.stringify(name)} is given more than once.`);
    params.set(name, value);
  }
  return params;
}

export function canonicalQuery(params: Map<string, string>, without?: string): string {
  return [...params]
    .filter(([name]) => name !== without)
    .map(([name, value]) => [uriEncode(name), uriEncode(value)] as const)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, value]) => `${name}=${value}`)
    .join('&');
}

/** Headers by lower-case name, each with all its values as sent (trimmed, inner whitespace collapsed), joined by commas. */
function headerValues(rawHeaders: string[]): Map<string, string[]> {
  const headers = new Map<string, string[]>();
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!.toLowerCase();
    const values = headers.get(name) ?? [];
    values.push(rawHeaders[i + 1]!.trim().replace(/\s+/g, ' '));
    headers.set(name, values);
  }
  return headers;
}

interface Authorization {
  credential: string;
  signedHeaders: string;
  signature: string;
  /** x-amz-date (header auth) or X-Amz-Date (query auth), `20260101T000000Z`. */
  date: string;
  payloadHash: string;
}

function fromHeader(header: string, headers: Map<string, string[]>): Authorization {
  const malformed = (what: string) => refuse('AuthorizationHeaderMalformed', `The authorization header is malformed; ${what}.`);
  if (!header.startsWith(`${ALGORITHM} `)) refuse('AccessDenied', `Only ${ALGORITHM} (Signature Version 4) is accepted.`);
  const components = new Map<string, string>();
  for (const component of header.slice(ALGORITHM.length + 1).split(',')) {
    const at = component.indexOf('=');
    const name = component.slice(0, at).trim();
    if (at === -1 || components.has(name)) malformed('each component must be given once as name=value');
    components.set(name, component.slice(at + 1).trim());
  }
  const [credential, signedHeaders, signature] = ['Credential', 'SignedHeaders', 'Signature'].map(
    (name) => components.get(name) ?? malformed(`missing ${name}`),
  );
  if (components.size !== 3) malformed('it takes exactly Credential, SignedHeaders and Signature');
  const date = single(headers, 'x-amz-date') ?? refuse('AccessDenied', 'AWS authentication requires a valid x-amz-date header.');
  const payloadHash =
    single(headers, 'x-amz-content-sha256') ?? refuse('InvalidRequest', 'Missing required header for this request: x-amz-content-sha256');
  if (!PAYLOAD_HASHES.has(payloadHash) && !/^[0-9a-f]{64}$/.test(payloadHash)) {
    refuse('InvalidArgument', 'x-amz-content-sha256 must be UNSIGNED-PAYLOAD, a STREAMING-… value, or a SHA-256 in lower-case hex.');
  }
  return { credential: credential!, signedHeaders: signedHeaders!, signature: signature!, date, payloadHash };
}

function fromQuery(params: Map<string, string>): Authorization {
  const missing = QUERY_AUTH.filter((name) => !params.has(name));
  if (missing.length)
    refuse(
      'AuthorizationQueryParametersError',
      `Query-string authentication version 4 requires ${QUERY_AUTH.join(', ')}; missing ${missing.join(', ')}.`,
    );
  if (params.get('X-Amz-Algorithm') !== ALGORITHM)
    refuse('AuthorizationQueryParametersError', `X-Amz-Algorithm only supports "${ALGORITHM}".`);
  return {
    credential: params.get('X-Amz-Credential')!,
    signedHeaders: params.get('X-Amz-SignedHeaders')!,
    signature: params.get('X-Amz-Signature')!,
    date: params.get('X-Amz-Date')!,
    // S3's presigned URLs sign UNSIGNED-PAYLOAD; the SDK hoists that into the query.
    payloadHash: params.get('X-Amz-Content-Sha256') ?? 'UNSIGNED-PAYLOAD',
  };
}

function single(headers: Map<string, string[]>, name: string): string | undefined {
  const values = headers.get(name);
  if (values && values.length > 1) refuse('InvalidArgument', `The header ${name} is given more than once.`);
  return values?.[0];
}

/** `20260101T000000Z` → epoch ms, or NaN. */
function parseAmzDate(date: string): number {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(date);
  return m ? Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!) : NaN;
}

function checkTime(auth: Authorization, query: boolean, params: Map<string, string>, now: number) {
  const signedAt = parseAmzDate(auth.date);
  if (Number.isNaN(signedAt)) {
    refuse(
      query ? 'AuthorizationQueryParametersError' : 'AccessDenied',
      "X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\".",
    );
  }
  if (!query) {
    if (Math.abs(now - signedAt) > MAX_SKEW_MS)
      refuse('RequestTimeTooSkewed', 'The difference between the request time and the current time is too large.');
    return;
  }
  const expires = params.get('X-Amz-Expires')!;
  if (!/^\d{1,7}$/.test(expires) || Number(expires) < 1 || Number(expires) > MAX_EXPIRES_S) {
    refuse('AuthorizationQueryParametersError', `X-Amz-Expires must be a whole number of seconds from 1 to ${MAX_EXPIRES_S}.`);
  }
  if (signedAt - now > MAX_SKEW_MS) refuse('AccessDenied', 'Request is not valid yet.');
  if (now > signedAt + Number(expires) * 1000) refuse('AccessDenied', 'Request has expired');
}

/** The signed header names: lower-case, sorted, unique, `host` among them; and every x-amz-* header sent must be one of them. */
function checkSignedHeaders(signedHeaders: string, headers: Map<string, string[]>): string[] {
  const names = signedHeaders.split(';');
  const sorted = names.every((name, i) => /^[a-z0-9-]+$/.test(name) && (i === 0 || names[i - 1]! < name));
  if (!sorted || !names.includes('host'))
    refuse('AccessDenied', 'SignedHeaders must be lower-case names in order, once each, host among them.');
  const unsigned = [...headers.keys()].filter((name) => name.startsWith('x-amz-') && !names.includes(name));
  if (unsigned.length) refuse('AccessDenied', `There were headers present in the request which were not signed: ${unsigned.join(', ')}`);
  return names;
}

/**
 * Verifies a request's SigV4 signature (header or query authentication) against `credentials`;
 * throws the S3 error S3 would answer. Anonymous requests are refused (403 AccessDenied).
 */
export function verifySignature(request: SignedRequest, credentials: Credentials, now = Date.now()): void {
  const { path, query } = splitTarget(request.target);
  const params = parseQuery(query);
  const headers = headerValues(request.rawHeaders);
  const header = single(headers, 'authorization');
  const inQuery = QUERY_AUTH.some((name) => params.has(name));
  if (header !== undefined && inQuery)
    refuse('InvalidArgument', 'Only one auth mechanism allowed: the X-Amz-Algorithm query parameter or the Authorization header.');
  if (header === undefined && !inQuery) {
    return refuse(
      'AccessDenied',
      params.has('Signature') ? 'Only Signature Version 4 is accepted.' : 'Access Denied: the request is not signed.',
    );
  }
  const auth = header !== undefined ? fromHeader(header, headers) : fromQuery(params);

  const [accessKeyId, day, region, service, terminator, ...extra] = auth.credential.split('/');
  if (accessKeyId !== credentials.accessKeyId)
    refuse('InvalidAccessKeyId', 'The AWS Access Key Id you provided does not exist in our records.');
  if (!day || !region || service !== 's3' || terminator !== 'aws4_request' || extra.length || !auth.date.startsWith(`${day}T`)) {
    refuse(
      inQuery ? 'AuthorizationQueryParametersError' : 'AuthorizationHeaderMalformed',
      "The credential scope must be <date>/<region>/s3/aws4_request, of the request's date.",
    );
  }
  checkTime(auth, inQuery, params, now);
  const names = checkSignedHeaders(auth.signedHeaders, headers);

  const canonicalHeaders = names.map((name) => `${name}:${(headers.get(name) ?? []).join(',')}\n`).join('');
  const canonicalRequest = [
    request.method,
    canonicalUri(path),
    canonicalQuery(params, inQuery ? 'X-Amz-Signature' : undefined),
    canonicalHeaders,
    auth.signedHeaders,
    auth.payloadHash,
  ].join('\n');
  const scope = `${day}/${region}/s3/aws4_request`;
  const stringToSign = `${ALGORITHM}\n${auth.date}\n${scope}\n${createHash('sha256').update(canonicalRequest).digest('hex')}`;
  const signingKey = [day!, region!, 's3', 'aws4_request'].reduce<Buffer | string>(
    (key, part) => hmac(key, part),
    `AWS4${credentials.secretAccessKey}`,
  );
  const expected = hmac(signingKey, stringToSign);
  // Buffer.from(…, 'hex') stops at the first non-hex character: a signature with a tail would pass.
  const given = /^[0-9a-f]{64}$/.test(auth.signature) ? Buffer.from(auth.signature, 'hex') : Buffer.alloc(0);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) mismatch();
}

/** The host names a store on `port` answers by default: its loopback address and `localhost`. */
export function loopbackHosts(port: () => number | undefined): (host: string) => boolean {
  return (host) => {
    const served = port();
    return served !== undefined && (host === `127.0.0.1:${served}` || host === `localhost:${served}`);
  };
}

/** Refuses a request unless it names exactly one Host, one the store serves. */
export function checkHost(req: IncomingMessage, isServedHost: (host: string, req: IncomingMessage) => boolean): void {
  const hosts = headerValues(req.rawHeaders).get('host') ?? [];
  if (hosts.length !== 1 || !isServedHost(hosts[0]!.toLowerCase(), req)) {
    refuse('InvalidArgument', 'This store does not serve the host named in the request (Host header).');
  }
}

interface KoaContext {
  method: string;
  path: string;
  querystring: string;
  req: IncomingMessage & { originalUrl?: string };
  state: { vhost?: boolean };
  is(type: string): string | false | null;
}

/**
 * Installs the checks in front of s3rver's router, before every other guard: the Host, path-style
 * addressing, the bucket name and key (embedded-paths.ts), then the signature. CORS preflights
 * (OPTIONS) carry no credentials in any S3; a browser form POST to the bucket is checked by its
 * policy (embedded-post-policy.ts).
 */
export function requireSignatures(
  server: object,
  options: { credentials: Credentials; isServedHost: (host: string, req: IncomingMessage) => boolean; now?: () => number },
): void {
  const now = options.now ?? Date.now;
  const guard = (ctx: KoaContext, next: () => Promise<void>) => {
    checkHost(ctx.req, options.isServedHost);
    if (ctx.state.vhost) refuse('InvalidRequest', 'Virtual-hosted-style requests are not served: address the bucket in the path.');
    const { bucket, key } = checkPath(ctx.path);
    if (ctx.method === 'OPTIONS') return next();
    const formPost =
      ctx.method === 'POST' && bucket !== undefined && key === undefined && ctx.querystring === '' && ctx.is('multipart/form-data');
    if (formPost) return next();
    // Mounted under a path (Express), the client signed the URL it sent, mount included.
    verifySignature(
      { method: ctx.method, target: ctx.req.originalUrl ?? ctx.req.url ?? '', rawHeaders: ctx.req.rawHeaders },
      options.credentials,
      now(),
    );
    return next();
  };
  // s3rver is a Koa app: its router is the last middleware; check before it routes.
  const middleware = (server as { middleware: unknown[] }).middleware;
  middleware.splice(middleware.length - 1, 0, guard);
}

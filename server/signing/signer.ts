import { createHmac, hash } from 'node:crypto';
import { GetObjectCommand, PutObjectCommand, UploadPartCommand, type S3Client } from '@aws-sdk/client-s3';
import { formatUrl } from '@aws-sdk/core/util';
import { getEndpointFromInstructions, toEndpointV1 } from '@smithy/core/endpoints';
import { escapeUri, extendedEncodeURIComponent } from '@smithy/core/protocols';
import { ALGORITHM_IDENTIFIER, createScope, getSigningKey, MAX_PRESIGNED_TTL, SIGNATURE_QUERY_PARAM, UNSIGNED_PAYLOAD } from '@smithy/signature-v4';

/**
 * Signs presigned URLs and POST policies at close to the cost of the HMACs themselves.
 *
 * `getSignedUrl` runs a whole SDK command (middleware stack, serializer, endpoint rules, credential
 * and region providers) for every URL, and `createPresignedPost` resolves the endpoint, the region
 * and the credentials and derives the SigV4 signing key every time. Here each of those is done once:
 *
 * - the endpoint of each bucket, with the SDK's own endpoint resolution (`getEndpointFromInstructions`,
 *   as `getSignedUrl` and `createPresignedPost` call it), so path-style, virtual-hosted, custom
 *   endpoints and AWS's rules stay the SDK's business;
 * - the region and the credentials, and again shortly before temporary credentials expire;
 * - the signing key of the day.
 *
 * What remains per signature is the canonical request (as `S3RequestPresigner` builds it), a SHA-256
 * and an HMAC, or encoding a policy and one HMAC. Those two hash with node:crypto directly, as the
 * SDK's Node hash does underneath: its wrapper copies the hash state on every digest and returns
 * bytes to convert to hex, which doubled the hashing cost of a download link (npm run bench).
 * The signing key of the day is still derived with the SDK's `getSigningKey` and the client's
 * SHA-256. `signer.test.ts` pins every output to be identical to `getSignedUrl` /
 * `createPresignedPost` on the same client.
 *
 * Give it a client made for signing (`createSigningClient`): with the SDK's default checksum
 * settings `getSignedUrl` would add `x-amz-checksum-mode=ENABLED` to GET links and an empty body's
 * CRC32 to PUT URLs; this signer never adds either, which equals `getSignedUrl` on such a client.
 */
export class Signer {
  private state?: SigningState;
  private refreshing?: Promise<SigningState>;
  private readonly endpoints = new Map<string, BucketEndpoints>();
  private readonly resolving = new Map<string, Promise<BucketEndpoints>>();

  constructor(readonly client: S3Client) {}

  /** A presigned GET, e.g. a download link; `response` becomes the `response-*` overrides S3 applies. */
  async presignGetObject(input: PresignObjectInput & { response?: ResponseOverrides }): Promise<string> {
    const query: Record<string, string> = {};
    const response = input.response;
    if (response) {
      for (const name in response) {
        const value = response[name as keyof ResponseOverrides];
        if (value !== undefined) query[RESPONSE_QUERY[name as keyof ResponseOverrides]] = value;
      }
    }
    query['x-id'] = 'GetObject';
    return this.presignUrl('get', input, query);
  }

  /** A presigned PUT of a whole object. */
  presignPutObject(input: PresignObjectInput): Promise<string> {
    return this.presignUrl('put', input, { 'x-id': 'PutObject' });
  }

  /**
   * A presigned PUT of one part of a multipart upload. With `contentLength`, Content-Length is a
   * signed header (as getSignedUrl signs an UploadPartCommand's ContentLength): S3 refuses a body of
   * any other size.
   */
  presignUploadPart(input: PresignObjectInput & { uploadId: string; partNumber: number; contentLength?: number }): Promise<string> {
    if (!Number.isInteger(input.partNumber) || input.partNumber < 1 || input.partNumber > 10_000) {
      throw new RangeError(`partNumber must be a whole number from 1 to 10000 (got ${input.partNumber}).`);
    }
    if (input.contentLength !== undefined && !(Number.isSafeInteger(input.contentLength) && input.contentLength >= 0)) {
      throw new RangeError(`contentLength must be a whole number of bytes (got ${input.contentLength}).`);
    }
    const query = { partNumber: String(input.partNumber), uploadId: input.uploadId, 'x-id': 'UploadPart' };
    return this.presignUrl('uploadPart', input, query, input.contentLength);
  }

  /**
   * A presigned POST policy: exactly what `createPresignedPost(client, { Bucket, Key, Conditions,
   * Fields, Expires })` returns, plus the policy's expiration.
   */
  async presignPost(input: PresignPostInput): Promise<PresignedPost> {
    const state = this.fresh() ?? (await this.refresh());
    const endpoints = this.endpoints.get(input.bucket) ?? (await this.resolveEndpoints(input.bucket));
    const { systemClockOffset } = this.client.config;

    const now = new Date(Date.now() + systemClockOffset);
    const { longDate, shortDate } = signingDates(now.valueOf());
    // A plain object filled field by field, conditions in an array, the policy encoded by Buffer:
    // each measured cheaper in the server under load (6–7 µs per request together) than a
    // prototype-less copy (slower to walk and to stringify), a Set and the SDK's encoders.
    const fields: Record<string, string> = {};
    for (const name in input.fields) setField(fields, name, input.fields[name]!);
    setField(fields, 'bucket', input.bucket);
    setField(fields, 'X-Amz-Algorithm', ALGORITHM_IDENTIFIER);
    setField(fields, 'X-Amz-Credential', `${state.credentials.accessKeyId}/${createScope(shortDate, state.region, 's3')}`);
    setField(fields, 'X-Amz-Date', longDate);
    if (state.credentials.sessionToken) setField(fields, 'X-Amz-Security-Token', state.credentials.sessionToken);
    const expiration = new Date(now.valueOf() + input.expiresIn * 1000);

    // createPresignedPost de-duplicates conditions by their JSON text, parses them back and
    // stringifies the whole document; stringifying JSON parsed from JSON.stringify gives the same
    // text again, so joining the unique texts gives the identical document without the round trip.
    const conditions: string[] = [];
    for (const condition of input.conditions ?? []) addUnique(conditions, JSON.stringify(condition));
    for (const name in fields) addUnique(conditions, `{${JSON.stringify(name)}:${JSON.stringify(fields[name])}}`);
    const key = input.key;
    addUnique(
      conditions,
      key.endsWith('${filename}')
        ? JSON.stringify(['starts-with', '$key', key.substring(0, key.lastIndexOf('${filename}'))])
        : JSON.stringify({ key }),
    );
    const document = `{"expiration":${JSON.stringify(iso8601(expiration))},"conditions":[${conditions.join(',')}]}`;
    const policy = Buffer.from(document, 'utf8').toString('base64');

    const signingKey = this.signingKey(state, shortDate, state.region, 's3') ?? (await this.deriveSigningKey(state, shortDate, state.region, 's3'));
    setField(fields, 'key', key);
    setField(fields, 'Policy', policy);
    setField(fields, 'X-Amz-Signature', createHmac('sha256', signingKey).update(policy).digest('hex'));
    return { url: endpoints.post.url, fields, expiration };
  }

  /** Resolves credentials, region and the bucket's endpoints now, so the first request does not wait for them. */
  async warmUp(bucket: string): Promise<void> {
    await Promise.all([this.fresh() ?? this.refresh(), this.endpoints.get(bucket) ?? this.resolveEndpoints(bucket)]);
  }

  private async presignUrl(operation: ObjectOperation, input: PresignObjectInput, query: Record<string, string>, contentLength?: number): Promise<string> {
    const state = this.fresh() ?? (await this.refresh());
    const target = (this.endpoints.get(input.bucket) ?? (await this.resolveEndpoints(input.bucket)))[operation];
    if (input.expiresIn > MAX_PRESIGNED_TTL) {
      throw new RangeError(`A presigned URL lasts at most ${MAX_PRESIGNED_TTL} seconds (got ${input.expiresIn}).`);
    }
    // The SDK's serializer for `/{Key+}`: each segment URI-encoded, slashes kept, after the endpoint's path.
    const encodedKey = input.key.split('/').map(extendedEncodeURIComponent).join('/');
    const path = target.path === '/' ? `/${encodedKey}` : `${target.path}/${encodedKey}`;

    // What S3RequestPresigner.presign does for a request with no headers but Host (and Content-Length
    // when given), without cloning and re-walking the request: SigV4 query authentication,
    // UNSIGNED-PAYLOAD, S3's paths signed as they are (no second encoding).
    const { longDate, shortDate } = signingDates(input.signingDate?.valueOf() ?? Date.now());
    const region = target.signingRegion ?? state.region;
    const service = target.signingName ?? 's3';
    const scope = createScope(shortDate, region, service);
    const host = target.port === undefined ? target.hostname : `${target.hostname}:${target.port}`;
    const params: Record<string, string> = {
      ...target.query,
      ...query,
      'X-Amz-Content-Sha256': UNSIGNED_PAYLOAD,
      ...(state.credentials.sessionToken ? { 'X-Amz-Security-Token': state.credentials.sessionToken } : {}),
      'X-Amz-Algorithm': ALGORITHM_IDENTIFIER,
      'X-Amz-Credential': `${state.credentials.accessKeyId}/${scope}`,
      'X-Amz-Date': longDate,
      'X-Amz-Expires': String(input.expiresIn),
      'X-Amz-SignedHeaders': contentLength === undefined ? 'host' : 'content-length;host',
    };
    const encoded = Object.keys(params)
      .map((name) => {
        const encodedName = escapeQuery(name);
        return [encodedName, `${encodedName}=${escapeQuery(params[name]!)}`] as const;
      })
      .sort(byEncodedName);
    const canonicalQuery = encoded.map(([, pair]) => pair).join('&');
    const canonicalHeaders = contentLength === undefined ? `host:${host}\n\nhost` : `content-length:${contentLength}\nhost:${host}\n\ncontent-length;host`;
    const canonicalRequest = `${target.method}\n${path}\n${canonicalQuery}\n${canonicalHeaders}\n${UNSIGNED_PAYLOAD}`;

    const stringToSign = `${ALGORITHM_IDENTIFIER}\n${longDate}\n${scope}\n${hash('sha256', canonicalRequest, 'hex')}`;
    const signingKey = this.signingKey(state, shortDate, region, service) ?? (await this.deriveSigningKey(state, shortDate, region, service));
    const signature = createHmac('sha256', signingKey).update(stringToSign).digest('hex');

    // formatUrl's order: the query sorted by name, the signature in its place.
    let at = 0;
    while (at < encoded.length && encoded[at]![0] < SIGNATURE_QUERY_PARAM) at++;
    encoded.splice(at, 0, [SIGNATURE_QUERY_PARAM, `${SIGNATURE_QUERY_PARAM}=${signature}`]);
    return `${target.protocol}//${host}${path}?${encoded.map(([, pair]) => pair).join('&')}`;
  }

  /** The current state, unless it is missing or its credentials are due for a refresh. */
  private fresh(): SigningState | undefined {
    const state = this.state;
    return state !== undefined && Date.now() < state.refreshAt ? state : undefined;
  }

  /** Resolves credentials and region (one call at a time); keeps the old credentials while they last if that fails. */
  private refresh(): Promise<SigningState> {
    this.refreshing ??= this.load().finally(() => {
      this.refreshing = undefined;
    });
    return this.refreshing;
  }

  private async load(): Promise<SigningState> {
    const previous = this.state;
    try {
      // The client's providers are memoized: credentials with an `expiration` are fetched again
      // when they are within 5 minutes of it (the SDK's own window, which REFRESH_BEFORE_MS matches).
      const [credentials, region] = await Promise.all([this.client.config.credentials(), this.client.config.region()]);
      const expiresAt = credentials.expiration ? credentials.expiration.getTime() : Infinity;
      const state: SigningState = {
        credentials,
        region,
        expiresAt,
        // A provider that keeps handing out credentials close to their expiry is asked again soon, not on every request.
        refreshAt: Math.max(expiresAt - REFRESH_BEFORE_MS, Date.now() + RETRY_MS),
        signingKeys: new Map(),
      };
      this.state = state;
      return state;
    } catch (err) {
      if (previous && Date.now() < previous.expiresAt) {
        previous.refreshAt = Date.now() + RETRY_MS;
        return previous;
      }
      throw err;
    }
  }

  /** The SigV4 signing key of the day, region and service, if derived already (getSigningKey would hash the credentials on every call). */
  private signingKey(state: SigningState, shortDate: string, region: string, service: string): Uint8Array | undefined {
    const last = state.lastSigningKey;
    if (last?.shortDate === shortDate && last.region === region && last.service === service) return last.key;
    const key = state.signingKeys.get(`${shortDate}/${region}/${service}`);
    if (key) state.lastSigningKey = { shortDate, region, service, key };
    return key;
  }

  private async deriveSigningKey(state: SigningState, shortDate: string, region: string, service: string): Promise<Uint8Array> {
    const key = await getSigningKey(this.client.config.sha256, state.credentials, shortDate, region, service);
    if (!state.signingKeys.keys().next().value?.startsWith(shortDate)) state.signingKeys.clear(); // yesterday's keys
    state.signingKeys.set(`${shortDate}/${region}/${service}`, key);
    return key;
  }

  private resolveEndpoints(bucket: string): Promise<BucketEndpoints> {
    let pending = this.resolving.get(bucket);
    if (!pending) {
      pending = resolveBucketEndpoints(this.client, bucket).then(
        (endpoints) => {
          this.endpoints.set(bucket, endpoints);
          this.resolving.delete(bucket);
          return endpoints;
        },
        (err: unknown) => {
          this.resolving.delete(bucket);
          throw err;
        },
      );
      this.resolving.set(bucket, pending);
    }
    return pending;
  }
}

export interface PresignObjectInput {
  bucket: string;
  key: string;
  /** Seconds, at most 604800 (SigV4's limit). */
  expiresIn: number;
  /** Defaults to now. */
  signingDate?: Date;
}

/** The `response-*` query parameters: headers S3 sets on the response to a presigned GET. */
export interface ResponseOverrides {
  contentDisposition?: string;
  contentType?: string;
  cacheControl?: string;
  contentLanguage?: string;
  contentEncoding?: string;
}

const RESPONSE_QUERY: Record<keyof ResponseOverrides, string> = {
  contentDisposition: 'response-content-disposition',
  contentType: 'response-content-type',
  cacheControl: 'response-cache-control',
  contentLanguage: 'response-content-language',
  contentEncoding: 'response-content-encoding',
};

export interface PresignPostInput {
  bucket: string;
  key: string;
  /** Extra conditions, e.g. `['content-length-range', min, max]`. */
  conditions?: unknown[];
  /** Form fields; each also becomes an exact-match condition. */
  fields?: Record<string, string>;
  /** Seconds. */
  expiresIn: number;
}

export interface PresignedPost {
  url: string;
  fields: Record<string, string>;
  /** The policy's expiration. */
  expiration: Date;
}

/** Refresh temporary credentials this long before they expire (the SDK's own window). */
export const REFRESH_BEFORE_MS = 5 * 60_000;
/** Ask the provider again after this long when it failed or handed out credentials about to expire. */
const RETRY_MS = 10_000;

type Credentials = Awaited<ReturnType<S3Client['config']['credentials']>>;

interface SigningState {
  credentials: Credentials;
  region: string;
  expiresAt: number;
  refreshAt: number;
  /** Signing keys by `shortDate/region/service`, today's only. */
  signingKeys: Map<string, Uint8Array>;
  /** The key signingKey found last: nearly every signature of a day uses the same one. */
  lastSigningKey?: { shortDate: string; region: string; service: string; key: Uint8Array };
}

type ObjectOperation = 'get' | 'put' | 'uploadPart';

interface Target {
  method: string;
  protocol: string;
  hostname: string;
  port?: number;
  path: string;
  query?: Record<string, string>;
  signingRegion?: string;
  signingName?: string;
}

type BucketEndpoints = Record<ObjectOperation, Target> & { post: { url: string } };

/** A key for endpoint resolution only: S3's endpoint rules depend on the bucket, not on the key. */
const ANY_KEY = 'k';

async function resolveBucketEndpoints(client: S3Client, bucket: string): Promise<BucketEndpoints> {
  const resolve = async (command: typeof GetObjectCommand | typeof PutObjectCommand | typeof UploadPartCommand, method: string): Promise<Target> => {
    const endpoint = await getEndpointFromInstructions({ Bucket: bucket, Key: ANY_KEY }, command, client.config);
    const authScheme = endpoint.properties?.authSchemes?.[0] as { name?: string; signingRegion?: string; signingName?: string } | undefined;
    // SigV4a (multi-region access points) and S3 Express session auth sign differently.
    if (authScheme?.name !== undefined && authScheme.name !== 'sigv4') {
      throw new Error(`Bucket ${bucket} needs ${authScheme.name} signing, which Postbox does not do.`);
    }
    if (endpoint.headers && Object.keys(endpoint.headers).length > 0) {
      throw new Error(`Bucket ${bucket}'s endpoint needs signed headers, which Postbox's presigned URLs do not carry.`);
    }
    const { url } = endpoint;
    const query = url.search ? Object.fromEntries(url.searchParams) : undefined;
    return {
      method,
      protocol: url.protocol,
      hostname: url.hostname,
      port: url.port ? Number(url.port) : undefined,
      path: url.pathname,
      query,
      signingRegion: authScheme?.signingRegion,
      signingName: authScheme?.signingName,
    };
  };
  const [get, put, uploadPart, post] = await Promise.all([
    resolve(GetObjectCommand, 'GET'),
    resolve(PutObjectCommand, 'PUT'),
    resolve(UploadPartCommand, 'PUT'),
    // createPresignedPost: the URL of PutObject's endpoint, formatted as it does.
    getEndpointFromInstructions({ Bucket: bucket, Key: ANY_KEY }, PutObjectCommand, client.config).then((endpoint) => ({
      url: formatUrl(toEndpointV1(endpoint)),
    })),
  ]);
  return { get, put, uploadPart, post };
}

/** fields[name] = value, also for a field named __proto__ (a plain assignment would set the prototype). */
function setField(fields: Record<string, string>, name: string, value: string) {
  if (name === '__proto__') Object.defineProperty(fields, name, { value, enumerable: true, writable: true, configurable: true });
  else fields[name] = value;
}

const iso8601 = (date: Date) => date.toISOString().replace(/\.\d{3}Z$/, 'Z');

/** SigV4's URI encoding (smithy's escapeUri), without its two passes over a string that needs none. */
const escapeQuery = (text: string) => (/^[A-Za-z0-9\-._~]*$/.test(text) ? text : escapeUri(text));

/** Query pairs `[encoded name, "name=value"]` in SigV4's order: by encoded name, byte by byte. */
const byEncodedName = ([a]: readonly [string, string], [b]: readonly [string, string]) => (a < b ? -1 : a > b ? 1 : 0);

/** SigV4's dates: `20261123T093007Z` and `20261123`, formatted once per second. */
function signingDates(ms: number): SigningDates {
  const second = Math.floor(ms / 1000);
  if (second !== lastDates.second) {
    const longDate = iso8601(new Date(second * 1000)).replace(/[-:]/g, '');
    lastDates = { second, longDate, shortDate: longDate.slice(0, 8) };
  }
  return lastDates;
}

interface SigningDates {
  second: number;
  longDate: string;
  shortDate: string;
}

let lastDates: SigningDates = { second: NaN, longDate: '', shortDate: '' };

/** list.push(text) unless the list has it: createPresignedPost's de-duplication of conditions. */
function addUnique(list: string[], text: string) {
  if (!list.includes(text)) list.push(text);
}

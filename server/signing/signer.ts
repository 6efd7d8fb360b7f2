import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { createPresignedPost } from '@aws-sdk/s3-presigned-post';
import { getSignedUrl, S3RequestPresigner } from '@aws-sdk/s3-request-presigner';

/**
 * Presigned URLs and POST policies, with the SDK's public signing APIs.
 *
 * - POST policies: `createPresignedPost`.
 * - GET, PUT and UploadPart URLs: `S3RequestPresigner.presign` on a request to the bucket's endpoint.
 *   `getSignedUrl` would run a whole SDK command (middleware stack, serializer, endpoint rules) for
 *   every URL, about ten times the cost of the signature; so it runs once per bucket, and its URL
 *   gives the endpoint (scheme, host, path prefix, signing region and service) every later request
 *   to that bucket is made on. signer.test.ts pins each URL to equal `getSignedUrl`'s.
 *
 * Give it a client made for signing (`createSigningClient`, checksums only WHEN_REQUIRED): requests
 * built here carry no checksum anyway, and the resolving `getSignedUrl` adds none on such a client.
 */
export class Signer {
  private readonly endpoints = new Map<string, Promise<BucketEndpoint>>();

  constructor(readonly client: S3Client) {}

  /** A presigned GET, e.g. a download link; `response` becomes the `response-*` overrides S3 applies. */
  presignGetObject(input: PresignObjectInput & { response?: ResponseOverrides }): Promise<string> {
    const query: Record<string, string> = {};
    for (const [name, parameter] of Object.entries(RESPONSE_QUERY)) {
      const value = input.response?.[name as keyof ResponseOverrides];
      if (value !== undefined) query[parameter] = value;
    }
    query['x-id'] = 'GetObject';
    return this.presignUrl('GET', input, query);
  }

  /** A presigned PUT of a whole object. */
  presignPutObject(input: PresignObjectInput): Promise<string> {
    return this.presignUrl('PUT', input, { 'x-id': 'PutObject' });
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
    return this.presignUrl('PUT', input, query, input.contentLength);
  }

  /** A presigned POST policy: what `createPresignedPost` returns, plus the policy's expiration. */
  async presignPost(input: PresignPostInput): Promise<PresignedPost> {
    const conditions = [...(input.conditions ?? [])];
    // createPresignedPost turns a key ending in ${filename} into a starts-with condition (any key
    // with that prefix); the exact key, as a condition too, keeps the policy to this one key.
    if (input.key.endsWith('${filename}')) conditions.push({ key: input.key });
    const { url, fields } = await createPresignedPost(this.client, {
      Bucket: input.bucket,
      Key: input.key,
      Conditions: conditions as Parameters<typeof createPresignedPost>[1]['Conditions'],
      Fields: input.fields,
      Expires: input.expiresIn,
    });
    const policy = JSON.parse(Buffer.from(fields.Policy!, 'base64').toString('utf8')) as { expiration: string };
    return { url, fields, expiration: new Date(policy.expiration) };
  }

  /** Resolves credentials, region and the bucket's endpoint now, so the first request does not wait for them. */
  async warmUp(bucket: string): Promise<void> {
    await this.endpoint(bucket);
  }

  private async presignUrl(
    method: string,
    input: PresignObjectInput,
    query: Record<string, string>,
    contentLength?: number,
  ): Promise<string> {
    if (!(input.expiresIn <= MAX_PRESIGNED_SECONDS)) {
      throw new RangeError(`A presigned URL lasts at most ${MAX_PRESIGNED_SECONDS} seconds (got ${input.expiresIn}).`);
    }
    const endpoint = await this.endpoint(input.bucket);
    // The SDK's serializer for `/{Key+}`: each segment URI-encoded, slashes kept.
    const path = `${endpoint.pathPrefix}/${input.key.split('/').map(rfc3986).join('/')}`;
    const headers: Record<string, string> = contentLength === undefined ? {} : { 'content-length': String(contentLength) };
    const request: PresignableRequest = {
      method,
      protocol: endpoint.protocol,
      hostname: endpoint.hostname,
      port: endpoint.port,
      path,
      query,
      headers,
    };
    const signed = await endpoint.presigner.presign(request, {
      expiresIn: input.expiresIn,
      signingDate: input.signingDate,
      signingRegion: endpoint.signingRegion,
      signingService: endpoint.signingService,
    });
    return formatUrl(signed);
  }

  /** The bucket's endpoint and presigner, resolved once (again after a failure). */
  private endpoint(bucket: string): Promise<BucketEndpoint> {
    let endpoint = this.endpoints.get(bucket);
    if (!endpoint) {
      endpoint = resolveEndpoint(this.client, bucket);
      this.endpoints.set(bucket, endpoint);
      endpoint.catch(() => this.endpoints.delete(bucket));
    }
    return endpoint;
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

/** SigV4's limit: a week. */
const MAX_PRESIGNED_SECONDS = 7 * 24 * 3600;

type PresignableRequest = Parameters<S3RequestPresigner['presign']>[0];

interface BucketEndpoint {
  presigner: S3RequestPresigner;
  protocol: string;
  hostname: string;
  port?: number;
  /** The path before the key: `''` (virtual-hosted), `/bucket` (path-style), or the endpoint's own path before that. */
  pathPrefix: string;
  signingRegion: string;
  signingService: string;
}

/** A key for endpoint resolution only: S3's endpoint rules depend on the bucket, not on the key. */
const PROBE_KEY = 'k';

/** The endpoint `getSignedUrl` signs a GET of the bucket for, read from its URL. */
async function resolveEndpoint(client: S3Client, bucket: string): Promise<BucketEndpoint> {
  const url = new URL(await getSignedUrl(client, new GetObjectCommand({ Bucket: bucket, Key: PROBE_KEY }), { expiresIn: 60 }));
  if (!url.pathname.endsWith(`/${PROBE_KEY}`) || url.searchParams.get('X-Amz-Algorithm') !== 'AWS4-HMAC-SHA256') {
    throw new Error(`Bucket ${bucket}'s endpoint signs GETs in a way Postbox does not (${url.origin}${url.pathname}).`);
  }
  // The credential scope: accessKeyId/date/region/service/aws4_request.
  const [signingRegion, signingService] = url.searchParams.get('X-Amz-Credential')!.split('/').slice(-3, -1) as [string, string];
  return {
    presigner: new S3RequestPresigner({ ...client.config, region: signingRegion, signingName: signingService }),
    protocol: url.protocol,
    hostname: url.hostname,
    port: url.port ? Number(url.port) : undefined,
    pathPrefix: url.pathname.slice(0, -PROBE_KEY.length - 1),
    signingRegion,
    signingService,
  };
}

/** RFC 3986 percent-encoding, as SigV4 and the SDK's serializers use it. */
const rfc3986 = (text: string) => encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

/** A signed request as a URL, its query sorted by name (as the SDK's formatUrl). */
function formatUrl(request: Awaited<ReturnType<S3RequestPresigner['presign']>>): string {
  const host = request.port ? `${request.hostname}:${request.port}` : request.hostname;
  const query = Object.keys(request.query ?? {})
    .sort()
    .map((name) => `${rfc3986(name)}=${rfc3986(String(request.query![name]))}`)
    .join('&');
  return `${request.protocol}//${host}${request.path}?${query}`;
}

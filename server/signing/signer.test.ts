import { GetObjectCommand, PutObjectCommand, S3Client, UploadPartCommand } from '@aws-sdk/client-s3';
import { createPresignedPost } from '@aws-sdk/s3-presigned-post';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createSigningClient } from '../storage/s3-client.ts';
import { attachmentDisposition } from './filenames.ts';
import { Signer } from './signer.ts';

/**
 * The signer's URLs must be exactly what the SDK's own `getSignedUrl` produces on the same client,
 * for the same inputs, credentials and clock (it builds requests itself and signs them with
 * S3RequestPresigner): if the SDK or the signer changes how a URL is built, these tests fail instead
 * of links breaking. POST policies are createPresignedPost's own, but for a key ending in ${filename}.
 */

const NOW = new Date('2026-11-23T09:30:07.123Z');
const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };
const temporary = {
  accessKeyId: 'ASIATEMPORARY',
  secretAccessKey: 'temporary/secret+key',
  sessionToken: 'FwoGZXIvYXdzEJr//////////wEaDOn+token/with=odd&chars',
  expiration: new Date('2026-11-23T15:00:00Z'),
};

const targets = {
  'AWS, virtual-hosted': { region: 'eu-west-3', forcePathStyle: false, credentials },
  'AWS us-east-1, virtual-hosted': { region: 'us-east-1', forcePathStyle: false, credentials },
  'AWS, path-style': { region: 'eu-west-3', forcePathStyle: true, credentials },
  'custom endpoint with port, path-style': { region: 'us-east-1', endpoint: 'http://127.0.0.1:9000', forcePathStyle: true, credentials },
  'custom endpoint with a path, path-style': {
    region: 'us-east-1',
    endpoint: 'http://minio.internal:9000/s3',
    forcePathStyle: true,
    credentials,
  },
  'the embedded store under the app, <origin>/storage': {
    region: 'us-east-1',
    endpoint: 'http://127.0.0.1:8080/storage',
    forcePathStyle: true,
    credentials,
  },
  'custom endpoint, virtual-hosted': { region: 'auto', endpoint: 'https://files.example.com', forcePathStyle: false, credentials },
  'temporary credentials (session token)': { region: 'eu-west-3', forcePathStyle: false, credentials: temporary },
} as const;
type TargetName = keyof typeof targets;
const targetNames = Object.keys(targets) as TargetName[];

const keys = [
  'uploads/0abc-0123456789abcdef/text/plain/Grüße 日本.txt',
  'uploads/0abc-0123456789abcdef/text/plain/a b+c%d&e=f?g#h.txt',
  "uploads/0abc-0123456789abcdef/text/plain/it's (1) [x] *!~$@,;.txt",
  'uploads/0abc-0123456789abcdef/application/pdf/Cafe\u0301 😀.pdf',
  'plain.txt',
  'dir//double/slash',
];
const buckets = ['postbox', 'my.dotted.bucket'];

const cases = targetNames.flatMap((target) => buckets.flatMap((bucket) => keys.map((key) => ({ target, bucket, key }))));

/** The policy's expiration: whole seconds. */
const policyExpiration = (ms: number) => new Date(Math.floor(ms / 1000) * 1000);
const policyOf = (fields: Record<string, string>) => JSON.parse(Buffer.from(fields.Policy!, 'base64').toString('utf8'));

const clients = new Map<TargetName, S3Client>();
const signers = new Map<TargetName, Signer>();
/** One signing client and one signer per target, as in the app (the signer's caches are exercised). */
function setup(name: TargetName) {
  if (!clients.has(name)) {
    const client = createSigningClient(targets[name]);
    clients.set(name, client);
    signers.set(name, new Signer(client));
  }
  return { client: clients.get(name)!, signer: signers.get(name)! };
}

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(NOW);
});
afterEach(() => vi.useRealTimers());

describe('presigned URLs equal getSignedUrl', () => {
  it.each(cases)('GET with an attachment disposition: $target, $bucket, $key', async ({ target, bucket, key }) => {
    const { client, signer } = setup(target);
    const disposition = attachmentDisposition(key.split('/').at(-1)!);
    const expected = await getSignedUrl(
      client,
      new GetObjectCommand({ Bucket: bucket, Key: key, ResponseContentDisposition: disposition }),
      {
        expiresIn: 3600,
      },
    );
    const actual = await signer.presignGetObject({ bucket, key, expiresIn: 3600, response: { contentDisposition: disposition } });
    expect(actual).toBe(expected);
  });

  it.each(targetNames)('GET with every response override and a fixed signing date: %s', async (target) => {
    const { client, signer } = setup(target);
    const key = keys[0]!;
    const signingDate = new Date('2026-11-22T23:59:59Z');
    const expected = await getSignedUrl(
      client,
      new GetObjectCommand({
        Bucket: 'postbox',
        Key: key,
        ResponseContentDisposition: `inline; filename*=UTF-8''Gr%C3%BC%C3%9Fe.txt`,
        ResponseContentType: 'text/plain; charset=utf-8',
        ResponseCacheControl: 'private, max-age=60',
        ResponseContentLanguage: 'de-DE',
        ResponseContentEncoding: 'identity',
      }),
      { expiresIn: 604_800, signingDate },
    );
    const actual = await signer.presignGetObject({
      bucket: 'postbox',
      key,
      expiresIn: 604_800,
      signingDate,
      response: {
        contentDisposition: `inline; filename*=UTF-8''Gr%C3%BC%C3%9Fe.txt`,
        contentType: 'text/plain; charset=utf-8',
        cacheControl: 'private, max-age=60',
        contentLanguage: 'de-DE',
        contentEncoding: 'identity',
      },
    });
    expect(actual).toBe(expected);
  });

  it.each(cases)('PUT: $target, $bucket, $key', async ({ target, bucket, key }) => {
    const { client, signer } = setup(target);
    const expected = await getSignedUrl(client, new PutObjectCommand({ Bucket: bucket, Key: key }), { expiresIn: 600 });
    expect(await signer.presignPutObject({ bucket, key, expiresIn: 600 })).toBe(expected);
  });

  it.each(cases)('UploadPart: $target, $bucket, $key', async ({ target, bucket, key }) => {
    const { client, signer } = setup(target);
    const uploadId = 'VXBsb2FkIElE+/=.2~x_y-z';
    const expected = await getSignedUrl(client, new UploadPartCommand({ Bucket: bucket, Key: key, UploadId: uploadId, PartNumber: 42 }), {
      expiresIn: 900,
    });
    expect(await signer.presignUploadPart({ bucket, key, uploadId, partNumber: 42, expiresIn: 900 })).toBe(expected);
  });

  it.each(cases)('UploadPart with its Content-Length signed: $target, $bucket, $key', async ({ target, bucket, key }) => {
    const { client, signer } = setup(target);
    const uploadId = 'VXBsb2FkIElE+/=.2~x_y-z';
    const command = new UploadPartCommand({ Bucket: bucket, Key: key, UploadId: uploadId, PartNumber: 7, ContentLength: 33_554_432 });
    const expected = await getSignedUrl(client, command, { expiresIn: 900 });
    expect(expected).toContain('X-Amz-SignedHeaders=content-length%3Bhost');
    expect(await signer.presignUploadPart({ bucket, key, uploadId, partNumber: 7, contentLength: 33_554_432, expiresIn: 900 })).toBe(
      expected,
    );
  });

  it('refuses a part number or a length S3 would refuse', async () => {
    const { signer } = setup('AWS, virtual-hosted');
    for (const partNumber of [0, 10_001, 1.5]) {
      expect(() => signer.presignUploadPart({ bucket: 'postbox', key: 'k', uploadId: 'u', partNumber, expiresIn: 60 })).toThrow(RangeError);
    }
    for (const contentLength of [-1, 1.5, Number.NaN, 2 ** 53]) {
      expect(() =>
        signer.presignUploadPart({ bucket: 'postbox', key: 'k', uploadId: 'u', partNumber: 1, contentLength, expiresIn: 60 }),
      ).toThrow(RangeError);
    }
  });

  it('signs no checksum mode into GET links and no empty-body CRC32 into PUT URLs (the default client would)', async () => {
    const { signer } = setup('AWS, virtual-hosted');
    const get = await signer.presignGetObject({ bucket: 'postbox', key: 'a.txt', expiresIn: 60 });
    const put = await signer.presignPutObject({ bucket: 'postbox', key: 'a.txt', expiresIn: 60 });
    expect(get).not.toContain('x-amz-checksum');
    expect(put).not.toContain('x-amz-checksum');
    expect(put).not.toContain('x-amz-sdk-checksum-algorithm');

    // Why the signing client is configured WHEN_REQUIRED: with the SDK's defaults getSignedUrl adds them.
    const defaults = new S3Client({ region: 'eu-west-3', credentials });
    expect(await getSignedUrl(defaults, new GetObjectCommand({ Bucket: 'postbox', Key: 'a.txt' }))).toContain(
      'x-amz-checksum-mode=ENABLED',
    );
    expect(await getSignedUrl(defaults, new PutObjectCommand({ Bucket: 'postbox', Key: 'a.txt' }))).toContain('x-amz-checksum-crc32=');
  });
});

describe('POST policies equal createPresignedPost', () => {
  const post = (key: string, size: number, filename: string) => ({
    conditions: [['content-length-range', size, size]],
    fields: {
      'Content-Type': 'text/plain',
      'Content-Disposition': attachmentDisposition(filename),
      'x-amz-meta-original-name': encodeURIComponent(filename),
    },
    key,
  });

  it.each(cases)('$target, $bucket, $key', async ({ target, bucket, key }) => {
    const { client, signer } = setup(target);
    const { conditions, fields } = post(key, 1234, key.split('/').at(-1)!);
    const expected = await createPresignedPost(client, {
      Bucket: bucket,
      Key: key,
      Conditions: conditions as never,
      Fields: fields,
      Expires: 900,
    });
    const actual = await signer.presignPost({ bucket, key, conditions, fields, expiresIn: 900 });
    expect({ url: actual.url, fields: actual.fields }).toEqual(expected);
    expect(Object.keys(actual.fields)).toEqual(Object.keys(expected.fields));
    expect(actual.expiration).toEqual(policyExpiration(NOW.getTime() + 900_000));
  });

  it('with no conditions or fields, duplicate conditions and a clock offset', async () => {
    const { client, signer } = setup('temporary credentials (session token)');
    client.config.systemClockOffset = -90_000;
    try {
      for (const input of [
        { Bucket: 'postbox', Key: 'plain.txt' },
        {
          Bucket: 'postbox',
          Key: 'uploads/x',
          Conditions: [['starts-with', '$Content-Type', 'image/'], { acl: 'private' }],
          Fields: { acl: 'private' },
        },
        { Bucket: 'postbox', Key: 'k', Conditions: [['eq', '$x-amz-meta-n', '1'], ['eq', '$x-amz-meta-n', '1'], { bucket: 'postbox' }] },
        // Field names are copied as they are, even one that plain assignment would take for the prototype.
        {
          Bucket: 'postbox',
          Key: 'k',
          Fields: JSON.parse('{"__proto__":"odd","x-amz-meta-\\"q\\"":"é \\u2028 \\ud800 \\\\"}') as Record<string, string>,
        },
      ]) {
        const expected = await createPresignedPost(client, { ...input, Conditions: input.Conditions as never, Expires: 60 });
        const actual = await signer.presignPost({
          bucket: input.Bucket,
          key: input.Key,
          conditions: input.Conditions,
          fields: input.Fields,
          expiresIn: 60,
        });
        expect({ url: actual.url, fields: actual.fields }).toEqual(expected);
        expect(Object.keys(actual.fields)).toEqual(Object.keys(expected.fields));
        expect(actual.expiration).toEqual(policyExpiration(NOW.getTime() - 90_000 + 60_000));
      }
    } finally {
      client.config.systemClockOffset = 0;
    }
  });

  it('keeps a key ending in ${filename} exact (createPresignedPost alone would allow any key with its prefix)', async () => {
    const { signer } = setup('AWS, virtual-hosted');
    for (const key of ['uploads/0abc-0123456789abcdef/text/plain/${filename}', 'uploads/0abc-0123456789abcdef/text/plain/a${filename}']) {
      const { fields } = await signer.presignPost({ bucket: 'postbox', key, conditions: [['content-length-range', 1, 1]], expiresIn: 60 });
      expect(fields.key).toBe(key);
      expect(policyOf(fields).conditions).toContainEqual({ key });
    }
  });

  it('uses a new signing key when the day changes', async () => {
    const { client, signer } = setup('AWS, virtual-hosted');
    const input = { bucket: 'postbox', key: 'k', expiresIn: 60 };
    const before = await signer.presignPost(input);
    vi.setSystemTime(new Date('2026-11-24T00:00:01Z'));
    const after = await signer.presignPost(input);
    expect(after.fields['X-Amz-Credential']).toBe('AKIDEXAMPLE/20261124/eu-west-3/s3/aws4_request');
    expect(after.fields).toEqual((await createPresignedPost(client, { Bucket: 'postbox', Key: 'k', Expires: 60 })).fields);
    expect(after.fields['X-Amz-Signature']).not.toBe(before.fields['X-Amz-Signature']);
  });
});

describe('credential rotation', () => {
  /** A provider handing out new temporary credentials on each call, each valid for an hour. */
  function rotatingProvider(options: { failAfter?: number } = {}) {
    let calls = 0;
    const provider = vi.fn(async () => {
      calls += 1;
      if (options.failAfter !== undefined && calls > options.failAfter) throw new Error('credential provider unavailable');
      return {
        accessKeyId: `ASIAROTATION${calls}`,
        secretAccessKey: `secret-${calls}`,
        sessionToken: `token-${calls}`,
        expiration: new Date(Date.now() + 3600_000),
      };
    });
    return provider;
  }
  const credentialOf = (url: string) => new URL(url).searchParams.get('X-Amz-Credential')!.split('/')[0];
  const link = (signer: Signer) => signer.presignGetObject({ bucket: 'postbox', key: 'a.txt', expiresIn: 60 });

  it('keeps the credentials until 5 minutes before they expire, then signs with the new ones', async () => {
    const provider = rotatingProvider();
    const client = createSigningClient({ region: 'eu-west-3', forcePathStyle: false, credentials: provider });
    const signer = new Signer(client);

    expect(credentialOf(await link(signer))).toBe('ASIAROTATION1');
    vi.setSystemTime(NOW.getTime() + 54 * 60_000);
    expect(credentialOf(await link(signer))).toBe('ASIAROTATION1');
    expect(provider).toHaveBeenCalledTimes(1);

    vi.setSystemTime(NOW.getTime() + 56 * 60_000);
    const url = await link(signer);
    expect(credentialOf(url)).toBe('ASIAROTATION2');
    expect(new URL(url).searchParams.get('X-Amz-Security-Token')).toBe('token-2');
    expect(provider).toHaveBeenCalledTimes(2);
    // The SDK's own path sees the same rotated credentials, so the outputs still agree.
    expect(url).toBe(await getSignedUrl(client, new GetObjectCommand({ Bucket: 'postbox', Key: 'a.txt' }), { expiresIn: 60 }));
    const policy = await signer.presignPost({ bucket: 'postbox', key: 'k', expiresIn: 60 });
    expect(policy.fields['X-Amz-Credential']).toMatch(/^ASIAROTATION2\//);
    expect(policy.fields).toEqual((await createPresignedPost(client, { Bucket: 'postbox', Key: 'k', Expires: 60 })).fields);
    expect(provider).toHaveBeenCalledTimes(2);
  });

  it('asks once for concurrent requests', async () => {
    const provider = rotatingProvider();
    const signer = new Signer(createSigningClient({ region: 'eu-west-3', forcePathStyle: false, credentials: provider }));
    const urls = await Promise.all(Array.from({ length: 20 }, () => link(signer)));
    expect(new Set(urls.map(credentialOf))).toEqual(new Set(['ASIAROTATION1']));
    expect(provider).toHaveBeenCalledTimes(1);
  });

  it('fails to sign while a refresh fails (the routes answer 503), and signs with new credentials once the provider answers', async () => {
    let down = false;
    const provider = rotatingProvider();
    const signer = new Signer(
      createSigningClient({
        region: 'eu-west-3',
        forcePathStyle: false,
        credentials: () => (down ? Promise.reject(new Error('credential provider unavailable')) : provider()),
      }),
    );
    expect(credentialOf(await link(signer))).toBe('ASIAROTATION1');

    vi.setSystemTime(NOW.getTime() + 57 * 60_000);
    down = true;
    await expect(link(signer)).rejects.toThrow('credential provider unavailable');
    down = false;
    expect(credentialOf(await link(signer))).toBe('ASIAROTATION2');
  });
});

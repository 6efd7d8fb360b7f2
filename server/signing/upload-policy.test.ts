import { createHmac } from 'node:crypto';
import { S3Client } from '@aws-sdk/client-s3';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Signer, type PresignPostInput } from './signer.ts';
import { signUploadPolicy } from './upload-policy.ts';

const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };
const NOW = new Date('2026-11-23T09:30:00.000Z');
const input = {
  bucket: 'postbox',
  key: 'uploads/0abc-0123456789abcdef/text/plain/Grüße.txt',
  filename: 'Grüße.txt',
  contentType: 'text/plain',
  size: 1234,
  expiresSeconds: 600,
};

function hmac(key: string | Buffer, data: string): Buffer {
  return createHmac('sha256', key).update(data).digest();
}

describe('signUploadPolicy', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(NOW);
  });
  afterEach(() => vi.useRealTimers());

  const signer = (options: { endpoint?: string; forcePathStyle?: boolean } = {}) =>
    new Signer(new S3Client({ region: 'eu-west-3', credentials, ...options }));

  it('makes S3 enforce every rule: exact key, exact size, type, disposition, name, expiry', async () => {
    const policy = await signUploadPolicy(signer({ endpoint: 'http://127.0.0.1:9000', forcePathStyle: true }), input);
    const decoded = JSON.parse(Buffer.from(policy.fields.Policy!, 'base64').toString('utf8'));

    expect(decoded.expiration).toBe('2026-11-23T09:40:00Z');
    expect(policy.expiresAt).toBe('2026-11-23T09:40:00.000Z');
    expect(decoded.conditions).toEqual(
      expect.arrayContaining([
        ['content-length-range', 1234, 1234],
        { key: input.key },
        { bucket: 'postbox' },
        { 'Content-Type': 'text/plain' },
        { 'Content-Disposition': `attachment; filename="Gr??e.txt"; filename*=UTF-8''Gr%C3%BC%C3%9Fe.txt` },
        { 'x-amz-meta-original-name': 'Gr%C3%BC%C3%9Fe.txt' },
        { 'X-Amz-Algorithm': 'AWS4-HMAC-SHA256' },
        { 'X-Amz-Credential': 'AKIDEXAMPLE/20261123/eu-west-3/s3/aws4_request' },
        { 'X-Amz-Date': '20261123T093000Z' },
      ]),
    );
    expect(decoded.conditions).toHaveLength(9);
    // No prefix ("starts-with") rule anywhere: the key is exact.
    expect(JSON.stringify(decoded.conditions)).not.toContain('starts-with');
  });

  it('asks for the exact key as a condition of its own, whatever the signer does with the key', async () => {
    let asked: PresignPostInput | undefined;
    const recording = {
      presignPost: async (request: PresignPostInput) => {
        asked = request;
        return { url: 'http://s3.test/postbox', fields: {}, expiration: new Date() };
      },
    } as unknown as Signer;
    await signUploadPolicy(recording, input);
    expect(asked?.conditions).toContainEqual({ key: input.key });
  });

  it('refuses to sign a key with "${" (S3 substitutes ${filename} in a POST form, and the SDK makes such a key a prefix)', async () => {
    for (const key of [`${input.key.slice(0, -9)}\${filename}`, 'uploads/x/text/plain/a${b}']) {
      await expect(signUploadPolicy(signer(), { ...input, key })).rejects.toThrow(RangeError);
      await expect(signUploadPolicy(signer(), { ...input, key })).rejects.toThrow(key); // the log names the key
    }
  });

  it('returns one form field for every exact-match condition, with the same values', async () => {
    const policy = await signUploadPolicy(signer({ endpoint: 'http://127.0.0.1:9000', forcePathStyle: true }), input);
    const decoded = JSON.parse(Buffer.from(policy.fields.Policy!, 'base64').toString('utf8'));
    const exact = Object.assign({}, ...decoded.conditions.filter((c: unknown) => !Array.isArray(c)));
    const { Policy, 'X-Amz-Signature': signature, ...fields } = policy.fields;
    expect(fields).toEqual(exact);
    expect(Policy).toBeTruthy();
    expect(signature).toMatch(/^[0-9a-f]{64}$/);
    expect(policy.key).toBe(input.key);
  });

  it('signs the policy with the SigV4 key for that day, region and service', async () => {
    const policy = await signUploadPolicy(signer({ endpoint: 'http://127.0.0.1:9000', forcePathStyle: true }), input);
    const signingKey = ['20261123', 'eu-west-3', 's3', 'aws4_request'].reduce<Buffer | string>(
      (key, part) => hmac(key, part),
      `AWS4${credentials.secretAccessKey}`,
    );
    expect(policy.fields['X-Amz-Signature']).toBe(hmac(signingKey, policy.fields.Policy!).toString('hex'));
  });

  it('posts to the bucket URL the browser reaches: path-style or virtual-hosted', async () => {
    expect((await signUploadPolicy(signer({ endpoint: 'http://127.0.0.1:9000', forcePathStyle: true }), input)).url).toBe(
      'http://127.0.0.1:9000/postbox',
    );
    expect((await signUploadPolicy(signer(), input)).url).toBe('https://postbox.s3.eu-west-3.amazonaws.com/');
  });
});

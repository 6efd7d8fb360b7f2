import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { presignOperation } from '../signing/presign-operations.ts';
import { EMBEDDED_CREDENTIALS } from '../storage/embedded-s3.ts';
import { startThrowawayS3, type ThrowawayS3 } from './throwaway-s3.ts';

const run = promisify(execFile);
const BUCKET = 'presign-test';
let s3: ThrowawayS3;

beforeAll(async () => {
  s3 = await startThrowawayS3(BUCKET);
  await s3.client.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'notes/hello.txt', Body: 'hello', ContentType: 'text/plain' }));
});
afterAll(() => s3?.stop());

const sign = (request: Omit<Parameters<typeof presignOperation>[1], 'bucket'>) =>
  presignOperation(s3.client, { bucket: BUCKET, ...request });

describe('presignOperation', () => {
  it('signs GetObject with response overrides that S3 honours', async () => {
    const url = await sign({
      operation: 'get-object',
      key: 'notes/hello.txt',
      expiresIn: 60,
      params: { ResponseContentType: 'application/x-test' },
    });
    const response = await fetch(url);
    expect(response.status).toBe(200);
    expect(await response.text()).toBe('hello');
    expect(response.headers.get('content-type')).toBe('application/x-test');
  });

  it('signs PutObject, and the object lands', async () => {
    const url = await sign({ operation: 'put-object', key: 'notes/new.txt', expiresIn: 60, params: { ContentType: 'text/plain' } });
    expect((await fetch(url, { method: 'PUT', body: 'new bytes', headers: { 'content-type': 'text/plain' } })).status).toBe(200);
    const get = await fetch(await sign({ operation: 'get-object', key: 'notes/new.txt', expiresIn: 60 }));
    expect(await get.text()).toBe('new bytes');
  });

  it('signs ListObjectsV2 with its parameters', async () => {
    const url = await sign({ operation: 'list-objects-v2', expiresIn: 60, params: { Prefix: 'notes/', MaxKeys: '10' } });
    expect(url).toContain('list-type=2');
    const response = await fetch(url);
    expect(response.status).toBe(200);
    expect(await response.text()).toContain('<Key>notes/hello.txt</Key>');
  });

  it('signs HeadObject', async () => {
    const head = await sign({ operation: 'head-object', key: 'notes/hello.txt', expiresIn: 60 });
    expect((await fetch(head, { method: 'HEAD' })).status).toBe(200);
  });

  it('signs for another HTTP method with --method (the method is part of a SigV4 signature)', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      const asGet = new URL(await sign({ operation: 'get-object', key: 'notes/hello.txt', expiresIn: 60 }));
      const asHead = new URL(await sign({ operation: 'get-object', key: 'notes/hello.txt', expiresIn: 60, method: 'head' }));
      const withoutSignature = (url: URL) => {
        url.searchParams.delete('X-Amz-Signature');
        return url.href;
      };
      expect(asHead.searchParams.get('X-Amz-Signature')).not.toBe(asGet.searchParams.get('X-Amz-Signature'));
      expect(withoutSignature(asHead)).toBe(withoutSignature(asGet));
    } finally {
      vi.useRealTimers();
    }
  });

  it.each([
    [{ operation: 'delete-bucket', expiresIn: 60 }, /Unknown operation "delete-bucket"/],
    [{ operation: 'get-object', expiresIn: 60 }, /needs --key/],
    [{ operation: 'get-bucket-location', key: 'x', expiresIn: 60 }, /takes no --key/],
    [{ operation: 'get-object', key: 'x', expiresIn: 604_801 }, /--expires must be/],
    [{ operation: 'get-object', key: 'x', expiresIn: 60, method: 'PATCH' }, /get-object can be signed for GET or HEAD only/],
    // Another method would make another operation: a GetObject signed for DELETE deletes.
    [{ operation: 'get-object', key: 'x', expiresIn: 60, method: 'DELETE' }, /get-object can be signed for GET or HEAD only/],
    [{ operation: 'list-objects-v2', expiresIn: 60, method: 'delete' }, /list-objects-v2 can be signed for GET or HEAD only/],
    [{ operation: 'put-object', key: 'x', expiresIn: 60, method: 'POST' }, /put-object can be signed for PUT only/],
    [{ operation: 'get-object', key: 'x', expiresIn: 60, params: { constructor: 'x' } }, /does not allow --param constructor/],
    [{ operation: 'get-object', key: 'x', expiresIn: 60, params: { toString: 'y' } }, /does not allow --param toString/],
    [{ operation: 'get-object', key: 'x', expiresIn: 60, params: { Bucket: 'other' } }, /does not allow --param Bucket/],
    [{ operation: 'list-objects-v2', expiresIn: 60, params: { MaxKeys: 'ten' } }, /MaxKeys must be a whole number/],
  ])('refuses %j', async (request, message) => {
    await expect(sign(request)).rejects.toThrow(message);
  });
});

describe('npm run presign', () => {
  const env = () => ({
    ...process.env,
    S3_BUCKET: BUCKET,
    S3_ENDPOINT: s3.endpoint,
    S3_FORCE_PATH_STYLE: 'true',
    AWS_ACCESS_KEY_ID: EMBEDDED_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: EMBEDDED_CREDENTIALS.secretAccessKey,
  });
  const cli = ['node_modules/.bin/tsx', 'server/cli/presign.ts'];

  it('prints a URL that works with a plain HTTP client', async () => {
    const { stdout } = await run(cli[0]!, [cli[1]!, 'get-object', '--key', 'notes/hello.txt', '--expires', '120'], { env: env() });
    const url = stdout.trim();
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/presign-test\/notes\/hello\.txt\?.*X-Amz-Expires=120/);
    expect(await (await fetch(url)).text()).toBe('hello');
  });

  it('exits 2 with the reason and the usage for an operation outside the allowlist', async () => {
    const failure = await run(cli[0]!, [cli[1]!, 'delete-object', '--key', 'notes/hello.txt'], { env: env() }).catch((err) => err);
    expect(failure.code).toBe(2);
    expect(failure.stderr).toContain('Unknown operation "delete-object"');
    expect(failure.stderr).toContain('Usage: npm run presign');
  });
});

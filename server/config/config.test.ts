import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  formatBytes,
  MiB,
  MULTIPART_MAX_PARTS,
  multipartPartSize,
  partCountOf,
  S3_MAX_PART_BYTES,
  S3_MIN_PART_BYTES,
  S3_OBJECT_MAX_BYTES,
} from '../../contract/api.ts';
import { ConfigError, loadConfig } from './config.ts';

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('runs on the embedded S3 with sensible defaults when nothing is set', () => {
    const config = loadConfig({});
    expect(config.host).toBe('127.0.0.1');
    expect(config.port).toBe(8080);
    expect(config.storage).toEqual({
      mode: 'embedded',
      bucket: 'postbox',
      region: 'us-east-1',
      dataDir: path.resolve('./data'),
    });
    expect(config.s3Client).toEqual({ maxAttempts: 3, retryMode: 'standard', proxy: undefined, timeoutMs: 5000 });
    expect(config.uploads).toEqual({
      maxBytes: 1024 ** 3,
      allowedTypes: ['*/*'],
      deniedTypes: [],
      expiresSeconds: 900,
      multipartThresholdBytes: 64 * 1024 ** 2,
      multipartConcurrency: 4,
      multipartPartBytes: 32 * 1024 ** 2,
    });
    expect(config.access).toEqual({
      password: undefined,
      apiTokens: [],
      sessionSecret: undefined,
      sessionMaxAgeSeconds: 604800,
      sessionIdleSeconds: 43200,
      failedSignInsPerMinute: 60,
    });
    expect(config.rateLimitPerMinute).toBe(600);
    expect(config.trustProxy).toBe(false);
    expect(config.allowedHosts).toEqual(['localhost', '127.0.0.1']);
  });

  it('answers under localhost, HOST, the hosts of PUBLIC_URL and APP_ORIGINS, and ALLOWED_HOSTS (or any, with *)', () => {
    expect(
      loadConfig({
        HOST: '0.0.0.0',
        PUBLIC_URL: 'https://Postbox.example.com',
        APP_ORIGINS: 'http://dev.local:5173',
        ALLOWED_HOSTS: 'nas.lan, Other.example',
      }).allowedHosts,
    ).toEqual(['localhost', '0.0.0.0', 'postbox.example.com', 'dev.local', 'nas.lan', 'other.example']);
    expect(loadConfig({ ALLOWED_HOSTS: 'nas.lan,*' }).allowedHosts).toBe('*');
    expect(problemsOf({ ALLOWED_HOSTS: 'nas.lan:8080' })[0]).toMatch(/^ALLOWED_HOSTS: expected comma-separated host names/);
  });

  it('uses an external bucket, and creates nothing, when S3_BUCKET is set', () => {
    const config = loadConfig({
      S3_BUCKET: 'my-bucket',
      S3_ENDPOINT: 'http://minio.internal:9000/',
      S3_PUBLIC_ENDPOINT: 'https://files.example.com',
      S3_REGION: 'eu-west-3',
      S3_FORCE_PATH_STYLE: 'true',
      S3_MAX_ATTEMPTS: '5',
      S3_RETRY_MODE: 'adaptive',
      S3_PROXY: 'http://proxy.internal:3128',
    });
    expect(config.storage).toEqual({
      mode: 'external',
      bucket: 'my-bucket',
      region: 'eu-west-3',
      endpoint: 'http://minio.internal:9000',
      publicEndpoint: 'https://files.example.com',
      forcePathStyle: true,
      partCheck: 'answered-md5',
    });
    expect(config.s3Client).toMatchObject({ maxAttempts: 5, retryMode: 'adaptive', proxy: 'http://proxy.internal:3128' });
  });

  it('has parts checked by Content-MD5 instead of their ETag where S3_PART_CHECK says so (a bucket with SSE-KMS)', () => {
    expect(loadConfig({ S3_BUCKET: 'my-bucket', S3_PART_CHECK: 'content-md5' }).storage).toMatchObject({ partCheck: 'content-md5' });
    expect(loadConfig({ S3_BUCKET: 'my-bucket', S3_PART_CHECK: 'etag' }).storage).toMatchObject({ partCheck: 'answered-md5' });
  });

  it('treats empty variables as unset', () => {
    expect(loadConfig({ PORT: '', S3_BUCKET: '' }).storage.mode).toBe('embedded');
  });

  it('has no setting for a port of the embedded store: browsers reach it under the app (EMBEDDED_S3_PORT is ignored)', () => {
    expect(loadConfig({ EMBEDDED_S3_PORT: '8081' }).storage).toEqual(loadConfig({}).storage);
  });

  it('sends files above 64 MiB through multipart upload, 4 parts at a time, up to 1 GiB by default and 48.8 TiB at most', () => {
    expect(loadConfig({}).uploads).toMatchObject({ maxBytes: 1024 ** 3, multipartThresholdBytes: 64 * 1024 ** 2, multipartConcurrency: 4 });
    const env = { MAX_UPLOAD_BYTES: String(S3_OBJECT_MAX_BYTES), MULTIPART_THRESHOLD_BYTES: String(16 * MiB), MULTIPART_CONCURRENCY: '8' };
    const big = loadConfig(env);
    expect(big.uploads).toMatchObject({ maxBytes: 10_000 * 5 * 1024 ** 3, multipartThresholdBytes: 16 * MiB, multipartConcurrency: 8 });
    expect(formatBytes(big.uploads.maxBytes)).toBe('48.8 TiB');
    expect(loadConfig({ MULTIPART_THRESHOLD_BYTES: String(5 * 1024 ** 3) }).uploads.multipartThresholdBytes).toBe(5 * 1024 ** 3);
  });

  it('sends parts of 32 MiB by default, whole MiB from 5 MiB to 5 GiB, the part sizes of S3', () => {
    expect(loadConfig({}).uploads.multipartPartBytes).toBe(32 * 1024 ** 2);
    expect(loadConfig({ MULTIPART_PART_BYTES: String(8 * 1024 ** 2) }).uploads.multipartPartBytes).toBe(8 * 1024 ** 2);
    expect(loadConfig({ MULTIPART_PART_BYTES: String(5 * 1024 ** 2) }).uploads.multipartPartBytes).toBe(5 * 1024 ** 2);
    expect(loadConfig({ MULTIPART_PART_BYTES: String(5 * 1024 ** 3) }).uploads.multipartPartBytes).toBe(5 * 1024 ** 3);
  });

  it('with any part setting, reaches the largest MAX_UPLOAD_BYTES in at most 10,000 parts of at most 5 GiB', () => {
    const max = loadConfig({ MAX_UPLOAD_BYTES: String(S3_OBJECT_MAX_BYTES) }).uploads.maxBytes;
    for (const setting of [5 * MiB, 32 * MiB, 5 * 1024 * MiB]) {
      const { multipartPartBytes } = loadConfig({ MULTIPART_PART_BYTES: String(setting) }).uploads;
      for (const size of [max, max - 1, 5 * 1024 ** 4 + 1, 100 * 1024 ** 3, 64 * MiB + 1]) {
        const partSize = multipartPartSize(size, multipartPartBytes);
        expect(partSize % MiB, `${size} in parts of ${setting}`).toBe(0);
        expect(partSize).toBeGreaterThanOrEqual(S3_MIN_PART_BYTES);
        expect(partSize).toBeLessThanOrEqual(S3_MAX_PART_BYTES);
        expect(partCountOf(size, partSize)).toBeLessThanOrEqual(MULTIPART_MAX_PARTS);
      }
    }
    expect(multipartPartSize(max, 5 * MiB)).toBe(S3_MAX_PART_BYTES);
    expect(partCountOf(max, S3_MAX_PART_BYTES)).toBe(10_000);
  });

  it('reads PUBLIC_URL as an origin', () => {
    const config = loadConfig({ PUBLIC_URL: 'https://Postbox.Example.com/' });
    expect(config.publicUrl).toBe('https://postbox.example.com');
    expect(loadConfig({ PUBLIC_URL: 'http://files.example:8443' }).publicUrl).toBe('http://files.example:8443');
    expect(loadConfig({}).publicUrl).toBeUndefined();
    for (const bad of [
      'https://postbox.example.com/app',
      'https://postbox.example.com\\app',
      'https://postbox.example.com/?x=1',
      'https://user:pw@postbox.example.com',
      'https://*.example.com',
      'ftp://postbox.example.com',
      'postbox.example.com',
    ]) {
      expect(problemsOf({ PUBLIC_URL: bad })[0]).toMatch(/^PUBLIC_URL: expected/);
    }
  });

  it('reads allowed types as a lower-cased list', () => {
    expect(loadConfig({ ALLOWED_TYPES: 'Image/*, application/pdf' }).uploads.allowedTypes).toEqual(['image/*', 'application/pdf']);
  });

  it.each([
    [{ PORT: 'eighty' }, /^PORT: expected a whole number from 0 to 65535 \(got "eighty"\)$/],
    [{ PORT: '70000' }, /^PORT: expected a whole number from 0 to 65535/],
    [{ S3_FORCE_PATH_STYLE: 'yes' }, /^S3_FORCE_PATH_STYLE: expected true or false/],
    [{ S3_RETRY_MODE: 'legacy' }, /^S3_RETRY_MODE: expected standard or adaptive/],
    [{ S3_BUCKET: 'ok-bucket', S3_PART_CHECK: 'crc32' }, /^S3_PART_CHECK: expected etag or content-md5/],
    [{ S3_PART_CHECK: 'etag' }, /^S3_PART_CHECK: only used with S3_BUCKET/],
    [{ S3_MAX_ATTEMPTS: '0' }, /^S3_MAX_ATTEMPTS: expected a whole number from 1 to 10/],
    [{ S3_BUCKET: 'B' }, /^S3_BUCKET: expected an S3 bucket name/],
    [{ S3_BUCKET: 'ok-bucket', S3_ENDPOINT: 'ftp://host' }, /^S3_ENDPOINT: expected an http:\/\/ or https:\/\/ URL/],
    [{ MAX_UPLOAD_BYTES: String(S3_OBJECT_MAX_BYTES + 1) }, /^MAX_UPLOAD_BYTES: expected a whole number from 1 to 53687091200000/],
    [{ MULTIPART_PART_BYTES: String(4 * MiB) }, /^MULTIPART_PART_BYTES: expected a whole number from 5242880 to 5368709120/],
    [{ MULTIPART_PART_BYTES: String(5 * 1024 * MiB + MiB) }, /^MULTIPART_PART_BYTES: expected a whole number from 5242880 to 5368709120/],
    [{ MULTIPART_PART_BYTES: String(8 * MiB + 1) }, /^MULTIPART_PART_BYTES: expected a whole number of MiB/],
    [{ MULTIPART_THRESHOLD_BYTES: String(1024 ** 2) }, /^MULTIPART_THRESHOLD_BYTES: expected a whole number from 5242880 to 5368709120/],
    [
      { MULTIPART_THRESHOLD_BYTES: String(6 * 1024 ** 3) },
      /^MULTIPART_THRESHOLD_BYTES: expected a whole number from 5242880 to 5368709120/,
    ],
    [{ MULTIPART_CONCURRENCY: '0' }, /^MULTIPART_CONCURRENCY: expected a whole number from 1 to 16/],
    [{ ALLOWED_TYPES: 'images' }, /^ALLOWED_TYPES: expected content types such as image\/png/],
    [{ UPLOAD_EXPIRES_SECONDS: '5' }, /^UPLOAD_EXPIRES_SECONDS: expected a whole number from 60 to 43200/],
    [{ LOG_LEVEL: 'loud' }, /^LOG_LEVEL: expected one of/],
    [{ S3_ENDPOINT: 'http://localhost:9000' }, /^S3_ENDPOINT: only used with S3_BUCKET/],
    [{ DENIED_TYPES: 'html' }, /^DENIED_TYPES: expected content types/],
    [{ POSTBOX_API_TOKENS: 'short' }, /^POSTBOX_API_TOKENS: expected comma-separated tokens of at least 16 characters$/],
    [{ TRUST_PROXY: 'maybe' }, /^TRUST_PROXY: expected true, false, a hop count/],
  ])('refuses %j with a message naming the variable and what is allowed', (env, expected) => {
    const problems = problemsOf(env);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(expected);
  });

  it('never repeats a secret in its message', () => {
    const problems = problemsOf({ POSTBOX_PASSWORD: 'hunter2' });
    expect(problems).toEqual(['POSTBOX_PASSWORD: expected at least 8 characters']);
  });

  it('locks access when a password or tokens are set, and reads TRUST_PROXY', () => {
    const config = loadConfig({
      POSTBOX_PASSWORD: 'correct horse',
      POSTBOX_API_TOKENS: 'a'.repeat(16) + ',' + 'b'.repeat(20),
      TRUST_PROXY: '1',
    });
    expect(config.access).toMatchObject({ password: 'correct horse', apiTokens: ['a'.repeat(16), 'b'.repeat(20)] });
    expect(config.trustProxy).toBe(1);
    expect(loadConfig({ TRUST_PROXY: 'loopback' }).trustProxy).toBe('loopback');
  });

  it('reads the session ends and the failed sign-in budget, within bounds', () => {
    const config = loadConfig({ SESSION_IDLE_SECONDS: '900', SESSION_MAX_AGE_SECONDS: '86400', SIGN_IN_FAILURES_PER_MINUTE: '20' });
    expect(config.access).toMatchObject({ sessionIdleSeconds: 900, sessionMaxAgeSeconds: 86400, failedSignInsPerMinute: 20 });
    expect(problemsOf({ SESSION_IDLE_SECONDS: '59' })).toEqual([
      'SESSION_IDLE_SECONDS: expected a whole number from 60 to 7776000 (got "59")',
    ]);
    expect(problemsOf({ SIGN_IN_FAILURES_PER_MINUTE: '0' })).toEqual([
      'SIGN_IN_FAILURES_PER_MINUTE: expected a whole number from 1 to 100000 (got "0")',
    ]);
  });

  it('reads REDIS_URL (unset: memory), never repeating it: it may hold a password', () => {
    expect(loadConfig({}).redisUrl).toBeUndefined();
    expect(loadConfig({ REDIS_URL: 'rediss://:secret@redis.internal:6380/2' }).redisUrl).toBe('rediss://:secret@redis.internal:6380/2');
    expect(problemsOf({ REDIS_URL: 'http://:secret@redis.internal' })).toEqual(['REDIS_URL: expected a redis:// or rediss:// URL']);
  });

  it('reports every bad variable at once', () => {
    expect(
      problemsOf({ PORT: 'x', S3_RETRY_MODE: 'y' })
        .map((p) => p.split(':')[0])
        .sort(),
    ).toEqual(['PORT', 'S3_RETRY_MODE']);
  });
});

describe('loadConfig: OIDC sign-in', () => {
  const oidc = {
    OIDC_ISSUER_URL: 'https://id.example.com/realms/x/',
    OIDC_CLIENT_ID: 'postbox',
    OIDC_CLIENT_SECRET: 's3cret',
    PUBLIC_URL: 'https://postbox.example.com',
  };
  const problemsOf = (env: Record<string, string>) => {
    try {
      loadConfig(env);
    } catch (err) {
      return (err as ConfigError).problems;
    }
    return [];
  };

  it('is off without settings and on with all of them, scopes defaulting to openid email profile', () => {
    expect(loadConfig({}).oidc).toBeUndefined();
    expect(loadConfig(oidc).oidc).toEqual({
      issuerUrl: 'https://id.example.com/realms/x',
      clientId: 'postbox',
      clientSecret: 's3cret',
      scopes: 'openid email profile',
    });
    expect(loadConfig({ ...oidc, OIDC_SCOPES: 'openid email' }).oidc?.scopes).toBe('openid email');
  });

  it('names what is missing: the other settings, PUBLIC_URL', () => {
    expect(problemsOf({ OIDC_ISSUER_URL: oidc.OIDC_ISSUER_URL })).toEqual([
      'OIDC_CLIENT_ID: required with OIDC_ISSUER_URL (OIDC sign-in)',
      'OIDC_CLIENT_SECRET: required with OIDC_ISSUER_URL (OIDC sign-in)',
      'PUBLIC_URL: required with OIDC sign-in (the provider returns to <PUBLIC_URL>/auth/callback)',
    ]);
  });

  it('refuses a password or global API tokens beside it, and scopes without openid', () => {
    expect(problemsOf({ ...oidc, POSTBOX_PASSWORD: 'long enough' })).toEqual([
      'POSTBOX_PASSWORD: not used with OIDC sign-in (each person signs in with the provider); unset one of them',
    ]);
    expect(problemsOf({ ...oidc, POSTBOX_API_TOKENS: 'a'.repeat(20) })).toHaveLength(1);
    expect(problemsOf({ ...oidc, OIDC_SCOPES: 'email profile' })[0]).toMatch(
      /^OIDC_SCOPES: expected space-separated scopes including openid/,
    );
  });

  it('never echoes the client secret', () => {
    expect(problemsOf({ ...oidc, OIDC_CLIENT_SECRET: '   ' }).join()).not.toContain('   "');
  });
});

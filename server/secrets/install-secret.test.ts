import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startThrowawayS3, type ThrowawayS3 } from '../integration/throwaway-s3.ts';
import { INSTALL_SECRET_KEY, InstallSecret } from './install-secret.ts';

describe('InstallSecret', () => {
  let s3: ThrowawayS3;
  beforeAll(async () => {
    s3 = await startThrowawayS3('secrets');
  });
  afterAll(() => s3.stop());

  it('is made once and shared by every instance on the bucket, one key per purpose', async () => {
    const [a, b] = await Promise.all([
      new InstallSecret(s3.client, 'secrets').key('session'),
      new InstallSecret(s3.client, 'secrets').key('session'),
    ]);
    expect(a.equals(b)).toBe(true);
    const later = new InstallSecret(s3.client, 'secrets');
    expect((await later.key('session')).equals(a)).toBe(true);
    expect((await later.key('multipart')).equals(a)).toBe(false);
    const stored = await s3.client.send(new GetObjectCommand({ Bucket: 'secrets', Key: INSTALL_SECRET_KEY }));
    expect(await stored.Body!.transformToString()).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('refuses a damaged secret instead of signing with it', async () => {
    await s3.client.send(new PutObjectCommand({ Bucket: 'secrets', Key: INSTALL_SECRET_KEY, Body: 'short' }));
    await expect(new InstallSecret(s3.client, 'secrets').key('session')).rejects.toMatchObject({ code: 'storage_unavailable' });
  });
});

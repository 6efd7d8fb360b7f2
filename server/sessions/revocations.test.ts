import { CreateBucketCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startThrowawayS3, type ThrowawayS3 } from '../integration/throwaway-s3.ts';
import { createS3Client } from '../storage/s3-client.ts';
import { REVOKED_PREFIX, SessionRevocations } from './revocations.ts';
import { newSessionId } from './session-token.ts';

// The embedded store always; a real S3 too when a Ceph RGW is running (scripts/ceph-rgw.sh, see rgw.test.ts).
const rgw = process.env.POSTBOX_RGW_ENDPOINT;
const stores = ['embedded', ...(rgw ? ['Ceph RGW'] : [])];

describe.each(stores)('SessionRevocations on %s', (store) => {
  let client: S3Client;
  let bucket: string;
  let throwaway: ThrowawayS3 | undefined;
  beforeAll(async () => {
    bucket = `revocations-${Date.now().toString(36)}`;
    if (store === 'embedded') {
      throwaway = await startThrowawayS3(bucket);
      client = throwaway.client;
    } else {
      const credentials = { accessKeyId: process.env.POSTBOX_RGW_ACCESS_KEY_ID ?? '', secretAccessKey: process.env.POSTBOX_RGW_SECRET_ACCESS_KEY ?? '' };
      client = createS3Client({ region: 'us-east-1', endpoint: rgw, forcePathStyle: true, credentials }, { maxAttempts: 3, retryMode: 'standard', timeoutMs: 10_000 });
      await client.send(new CreateBucketCommand({ Bucket: bucket }));
    }
  });
  afterAll(async () => {
    if (throwaway) await throwaway.stop();
    else client?.destroy();
  });
  const revocations = (now?: () => number) => new SessionRevocations(client, bucket, { cacheMs: 2000, maxAgeSeconds: 3600, now });

  it('records a revocation in the bucket, outside uploads/ and shares/, where another instance finds it', async () => {
    const id = newSessionId();
    const here = revocations();
    const there = revocations();
    expect(await there.isRevoked(id)).toBe(false);
    await here.revoke(id);
    expect(await here.isRevoked(id)).toBe(true);
    expect(await revocations().isRevoked(id)).toBe(true);
    const listed = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: REVOKED_PREFIX }));
    expect(listed.Contents?.map((o) => o.Key)).toContain(`postbox/revoked-sessions/${id}`);
  });

  it('sweeps records older than the longest session, and keeps younger ones', async () => {
    let now = Date.now();
    const instance = revocations(() => now);
    await instance.revoke(newSessionId());
    expect(await instance.sweep()).toBe(0);
    now += 3661_000;
    expect(await instance.sweep()).toBeGreaterThanOrEqual(1);
    const listed = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: REVOKED_PREFIX }));
    expect(listed.Contents ?? []).toEqual([]);
  });
});

import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startThrowawayS3, type ThrowawayS3 } from '../integration/throwaway-s3.ts';
import { REVOKED_PREFIX, SessionRevocations } from './revocations.ts';
import { newSessionId } from './session-token.ts';

const BUCKET = 'revocations';
let s3: ThrowawayS3;
beforeAll(async () => {
  s3 = await startThrowawayS3(BUCKET);
});
afterAll(() => s3?.stop());

describe('SessionRevocations', () => {
  it('records a revocation in the bucket, outside uploads/ and shares/, where another instance finds it', async () => {
    const id = newSessionId();
    const here = new SessionRevocations(s3.client, BUCKET, { cacheMs: 2000, maxAgeSeconds: 3600 });
    const there = new SessionRevocations(s3.client, BUCKET, { cacheMs: 2000, maxAgeSeconds: 3600 });
    expect(await there.isRevoked(id)).toBe(false);
    await here.revoke(id);
    expect(await here.isRevoked(id)).toBe(true);
    expect(await new SessionRevocations(s3.client, BUCKET, { cacheMs: 2000, maxAgeSeconds: 3600 }).isRevoked(id)).toBe(true);
    const listed = await s3.client.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: REVOKED_PREFIX }));
    expect(listed.Contents?.map((o) => o.Key)).toContain(`postbox/revoked-sessions/${id}`);
  });

  it('sweeps records older than the longest session, and keeps younger ones', async () => {
    let now = Date.now();
    const revocations = new SessionRevocations(s3.client, BUCKET, { cacheMs: 2000, maxAgeSeconds: 3600, now: () => now });
    const id = newSessionId();
    await revocations.revoke(id);
    expect(await revocations.sweep()).toBe(0);
    now += 3661_000;
    expect(await revocations.sweep()).toBeGreaterThanOrEqual(1);
    const listed = await s3.client.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: REVOKED_PREFIX }));
    expect(listed.Contents ?? []).toEqual([]);
  });
});

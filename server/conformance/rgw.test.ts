import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { describe, it } from 'vitest';
import { createS3Client } from '../storage/s3-client.ts';
import { conformanceSuite } from './suite.ts';

// scripts/test.sh (npm test) starts a throwaway Ceph RGW and exports these.
const endpoint = process.env.POSTBOX_RGW_ENDPOINT;
const credentials = {
  accessKeyId: process.env.POSTBOX_RGW_ACCESS_KEY_ID ?? '',
  secretAccessKey: process.env.POSTBOX_RGW_SECRET_ACCESS_KEY ?? '',
};
const HOW_TO =
  'Run `npm test` as root (it installs and starts Ceph RGW), or start one with `npm run s3:ceph -- start` and export POSTBOX_RGW_ENDPOINT, POSTBOX_RGW_ACCESS_KEY_ID, POSTBOX_RGW_SECRET_ACCESS_KEY.';

if (endpoint) {
  const bucket = `conformance-${Date.now().toString(36)}`;
  const client = createS3Client(
    { region: 'us-east-1', endpoint, forcePathStyle: true, credentials },
    { maxAttempts: 3, retryMode: 'standard', timeoutMs: 10_000 },
  );
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
  client.destroy();
  conformanceSuite({ name: 'Ceph RGW (a real S3)', endpoint, bucket, credentials, notEnforced: new Set(['posted-disposition']) });
} else if (process.env.CI === 'true') {
  describe('storage conformance: Ceph RGW (a real S3)', () => {
    it('needs a running RGW in CI', () => {
      throw new Error(`POSTBOX_RGW_ENDPOINT is not set: CI must prove every rule against a real S3. ${HOW_TO}`);
    });
  });
} else {
  console.warn(`\n!!! SKIPPED: the conformance suite against a real S3 (Ceph RGW) did not run. ${HOW_TO}\n`);
  describe.skip('storage conformance: Ceph RGW (a real S3) — SKIPPED, no RGW', () => {
    it('proves every signing rule against a real S3', () => {});
  });
}

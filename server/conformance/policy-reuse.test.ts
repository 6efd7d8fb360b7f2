/**
 * One POST policy writes one object: its own key, nothing else. Issue 18 finding 1: a file named
 * `${filename}` used to get `["starts-with","$key",<prefix>]` instead of an exact key, and that one
 * policy then wrote any number of objects under the prefix (nested ones the API never lists, and on
 * the embedded store `../` keys outside uploads/, such as a forged share record).
 * Runs against the embedded store and, when one is running, Ceph RGW (env as in rgw.test.ts).
 */
import { randomBytes } from 'node:crypto';
import { CreateBucketCommand, HeadObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, storageErrorCode, type UploadPolicy } from '../../contract/api.ts';
import { createS3Client } from '../storage/s3-client.ts';
import { postThroughPolicy, startTestPostbox, type TestPostbox } from '../integration/harness.ts';

interface Target {
  name: string;
  /** Storage settings for the app; none: its own embedded store. */
  env: () => Promise<Record<string, string>>;
}

const rgwEndpoint = process.env.POSTBOX_RGW_ENDPOINT;
const rgwCredentials = {
  accessKeyId: process.env.POSTBOX_RGW_ACCESS_KEY_ID ?? '',
  secretAccessKey: process.env.POSTBOX_RGW_SECRET_ACCESS_KEY ?? '',
};

const targets: Target[] = [{ name: 'the embedded S3 (s3rver)', env: async () => ({}) }];
if (rgwEndpoint) {
  targets.push({
    name: 'Ceph RGW (a real S3)',
    env: async () => {
      const bucket = `policy-reuse-${Date.now().toString(36)}`;
      const client = createS3Client(
        { region: 'us-east-1', endpoint: rgwEndpoint, forcePathStyle: true, credentials: rgwCredentials },
        { maxAttempts: 3, retryMode: 'standard', timeoutMs: 10_000 },
      );
      await client.send(new CreateBucketCommand({ Bucket: bucket }));
      client.destroy();
      // The SDK's default provider chain reads these (this file's own process).
      process.env.AWS_ACCESS_KEY_ID = rgwCredentials.accessKeyId;
      process.env.AWS_SECRET_ACCESS_KEY = rgwCredentials.secretAccessKey;
      return { S3_BUCKET: bucket, S3_ENDPOINT: rgwEndpoint, S3_FORCE_PATH_STYLE: 'true', S3_MAX_ATTEMPTS: '1' };
    },
  });
} else {
  console.warn('\n!!! SKIPPED: policy reuse against Ceph RGW (POSTBOX_RGW_ENDPOINT is not set; see rgw.test.ts).\n');
}

for (const target of targets) {
  describe(`a POST policy writes its own key only: ${target.name}`, () => {
    let app: TestPostbox;
    beforeAll(async () => {
      app = await startTestPostbox({ ...(await target.env()), RATE_LIMIT_PER_MINUTE: '0' });
    });
    afterAll(() => app?.stop());

    const sign = async (name: string): Promise<UploadPolicy> => {
      const response = await app.call('POST', api.uploads, { name, size: 10, type: 'text/plain' });
      expect(response.status).toBe(201);
      return response.body;
    };
    const exists = (key: string) =>
      app.storage.client.send(new HeadObjectCommand({ Bucket: app.storage.bucket, Key: key })).then(
        () => true,
        () => false,
      );
    const postAs = async (policy: UploadPolicy, key: string) => {
      const response = await postThroughPolicy({ ...policy, fields: { ...policy.fields, key } }, randomBytes(10), 'x.txt');
      return { status: response.status, code: storageErrorCode(await response.text()) };
    };

    it.each(['${filename}', 'report.txt', '$key'])(
      'a policy for a file named %j refuses every other key: 403, nothing written',
      async (name) => {
        const policy = await sign(name);
        const folder = policy.key.slice(0, policy.key.lastIndexOf('/') + 1);
        const others = [
          `${folder}someone-else.txt`, // a sibling under the same prefix
          `${folder}nested/deeper/x.txt`, // nested: /api/files never lists it, the API cannot delete it
          `${folder}${policy.key.slice(folder.length)}/x`, // the key itself as a folder
          `${folder}../../../../shares/links/forged.json`, // climbs out on a filesystem-backed store
          'shares/links/forged.json',
          `${policy.key}x`,
        ];
        for (const other of others) {
          expect(await postAs(policy, other), other).toEqual({ status: 403, code: 'AccessDenied' });
          expect(await exists(other), other).toBe(false);
        }
        expect(await exists('shares/links/forged.json')).toBe(false);
        // The policy still does what it was signed for.
        expect((await postThroughPolicy(policy, randomBytes(10), 'x.txt')).status).toBe(204);
        expect(await exists(policy.key)).toBe(true);
      },
    );
  });
}

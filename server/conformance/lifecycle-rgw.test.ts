/**
 * Retention proven on a real S3 (Ceph RGW): Postbox puts its lifecycle rules on the bucket at start
 * (S3_MANAGE_LIFECYCLE) beside the operator's own, and RGW itself, not Postbox, then deletes the
 * expired file and aborts the abandoned multipart upload. scripts/ceph-rgw.sh sets
 * `rgw lc debug interval = 4`: a lifecycle "day" is 4 seconds there.
 */
import {
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetBucketLifecycleConfigurationCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  PutBucketLifecycleConfigurationCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, type ShareLink, type UploadPolicy } from '../../contract/api.ts';
import { postThroughPolicy, startTestPostbox, type TestPostbox } from '../integration/harness.ts';
import { newUploadKey } from '../signing/object-keys.ts';
import { createS3Client } from '../storage/s3-client.ts';

const endpoint = process.env.POSTBOX_RGW_ENDPOINT;
const credentials = {
  accessKeyId: process.env.POSTBOX_RGW_ACCESS_KEY_ID ?? '',
  secretAccessKey: process.env.POSTBOX_RGW_SECRET_ACCESS_KEY ?? '',
};
const DEADLINE_MS = 120_000;

/** Polls `check` until it holds; fails at the deadline. */
async function eventually(what: string, check: () => Promise<boolean>): Promise<void> {
  const until = Date.now() + DEADLINE_MS;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`not within ${DEADLINE_MS / 1000} s: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

describe.skipIf(!endpoint)('retention by lifecycle rules on Ceph RGW', () => {
  const bucket = `lifecycle-${Date.now().toString(36)}`;
  let client: S3Client;
  let app: TestPostbox;

  const exists = (key: string) =>
    client.send(new HeadObjectCommand({ Bucket: bucket, Key: key })).then(
      () => true,
      (err: { $metadata?: { httpStatusCode?: number } }) => {
        if (err.$metadata?.httpStatusCode === 404) return false;
        throw err;
      },
    );

  beforeAll(async () => {
    client = createS3Client(
      { region: 'us-east-1', endpoint, forcePathStyle: true, credentials },
      { maxAttempts: 3, retryMode: 'standard', timeoutMs: 10_000 },
    );
    await client.send(new CreateBucketCommand({ Bucket: bucket }));
    // The operator's own rule, which Postbox must keep.
    await client.send(
      new PutBucketLifecycleConfigurationCommand({
        Bucket: bucket,
        LifecycleConfiguration: {
          Rules: [{ ID: 'operator-tmp', Status: 'Enabled', Filter: { Prefix: 'tmp/' }, Expiration: { Days: 3650 } }],
        },
      }),
    );
    process.env.AWS_ACCESS_KEY_ID = credentials.accessKeyId;
    process.env.AWS_SECRET_ACCESS_KEY = credentials.secretAccessKey;
    app = await startTestPostbox({
      S3_BUCKET: bucket,
      S3_ENDPOINT: endpoint!,
      S3_FORCE_PATH_STYLE: 'true',
      FILE_RETENTION_DAYS: '1',
      ABORT_INCOMPLETE_UPLOADS_DAYS: '1',
      S3_MANAGE_LIFECYCLE: 'true',
      RATE_LIMIT_PER_MINUTE: '0',
    });
  }, 60_000);
  afterAll(async () => {
    await app?.stop();
    client?.destroy();
  });

  it("puts its rules on the bucket at start, beside the operator's", async () => {
    const { Rules = [] } = await client.send(new GetBucketLifecycleConfigurationCommand({ Bucket: bucket }));
    expect(Rules.map((rule) => rule.ID).sort()).toEqual(['operator-tmp', 'postbox-people', 'postbox-thumbs', 'postbox-uploads']);
    const uploads = Rules.find((rule) => rule.ID === 'postbox-uploads');
    expect(uploads).toMatchObject({ Expiration: { Days: 1 }, AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 } });
  });

  it(
    'RGW deletes the expired file and aborts the abandoned upload by the rules; records stay; the share answers 410',
    async () => {
      const bytes = new TextEncoder().encode('expires by rule');
      const signed = await app.call('POST', api.uploads, { name: 'short-lived.txt', size: bytes.length, type: 'text/plain' });
      expect(signed.status).toBe(201);
      const policy = signed.body as UploadPolicy;
      expect((await postThroughPolicy(policy, bytes)).status).toBe(204);
      const shared = await app.call('POST', api.fileShares(policy.key), { expiresIn: 3600 });
      expect(shared.status).toBe(201);
      const abandoned = newUploadKey('abandoned.bin', 'application/octet-stream');
      const { UploadId } = await client.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: abandoned }));
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'postbox/kept-record', Body: 'record' }));
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'shares/kept-record', Body: 'record' }));

      await eventually('the file deleted by the expiration rule', async () => !(await exists(policy.key)));
      await eventually('the multipart upload aborted by the rule', async () => {
        const { Uploads = [] } = await client.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: 'uploads/' }));
        return !Uploads.some((upload) => upload.UploadId === UploadId);
      });
      expect(await exists('postbox/kept-record')).toBe(true);
      expect(await exists('shares/kept-record')).toBe(true);
      expect((await fetch((shared.body as ShareLink).url)).status).toBe(410);

      // By the rule, not by Postbox: it never deleted or aborted anything itself.
      const scrape = await (await fetch(`${app.url}/metrics`)).text();
      expect(scrape).not.toMatch(/operation="(DeleteObjectCommand|AbortMultipartUploadCommand)"/);
      expect(scrape).not.toMatch(/^postbox_retention_deleted_total\{/m);
    },
    DEADLINE_MS + 30_000,
  );
});

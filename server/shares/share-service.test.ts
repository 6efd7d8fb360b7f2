import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { SHARE_LINKS_PER_FILE } from '../http/contract.ts';
import { newUploadKey, parseUploadKey } from '../signing/object-keys.ts';
import { EMBEDDED_CREDENTIALS, startEmbeddedS3, type EmbeddedS3 } from '../storage/embedded-s3.ts';
import { createS3Client } from '../storage/s3-client.ts';
import { isRevoked, type LiveShare, type StoredShare } from './share-record.ts';
import { ShareService } from './share-service.ts';
import type { ShareStore } from './share-store.ts';

const BUCKET = 'share-service';
let dir: string;
let s3: EmbeddedS3;
let client: S3Client;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'postbox-share-service-'));
  s3 = await startEmbeddedS3({ dataDir: dir, port: 0, bucket: BUCKET, corsOrigins: ['*'] });
  client = createS3Client(
    { region: 'us-east-1', endpoint: s3.endpoint, forcePathStyle: true, credentials: EMBEDDED_CREDENTIALS },
    { maxAttempts: 1, retryMode: 'standard', timeoutMs: 5000 },
  );
});
afterAll(async () => {
  client?.destroy();
  await s3?.stop();
  await rm(dir, { recursive: true, force: true });
});

/** Records in memory, each call a little later, as storage answers: room for calls to interleave. */
class SlowMemoryStore implements ShareStore {
  readonly consistency = 'conditional' as const;
  private readonly records = new Map<string, StoredShare>();
  private later = () => new Promise((resolve) => setTimeout(resolve, Math.random() * 3));

  async create(share: LiveShare) {
    await this.later();
    this.records.set(share.id, share);
  }
  async get(id: string) {
    await this.later();
    return this.records.get(id);
  }
  async listForFile(fileKey: string) {
    await this.later();
    return [...this.records.values()].filter((s): s is LiveShare => !isRevoked(s) && s.fileKey === fileKey);
  }
  async update(): Promise<undefined> {
    throw new Error('not used here');
  }
  async deleteForFile(): Promise<number> {
    throw new Error('not used here');
  }
}

it(`makes at most ${SHARE_LINKS_PER_FILE} links per file, however many are asked for at once`, async () => {
  const key = newUploadKey('popular.txt', 'text/plain');
  await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: 'popular' }));
  const service = new ShareService({
    store: new SlowMemoryStore(),
    storage: { client, bucket: BUCKET },
    signDownload: async () => ({ url: 'unused' }),
  });
  const results = await Promise.allSettled(
    Array.from({ length: SHARE_LINKS_PER_FILE + 30 }, () => service.create(key, parseUploadKey(key)!, { expiresIn: 3600 })),
  );
  expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(SHARE_LINKS_PER_FILE);
  const refusals = results.flatMap((r) => (r.status === 'rejected' ? [(r.reason as { code?: string }).code] : []));
  expect(new Set(refusals)).toEqual(new Set(['too_many_share_links']));
  expect(await service.list(key)).toHaveLength(SHARE_LINKS_PER_FILE);
});

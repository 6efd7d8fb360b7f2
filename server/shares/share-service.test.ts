import { PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { SHARE_LINKS_PER_FILE } from '../../contract/api.ts';
import { newUploadKey, parseUploadKey } from '../signing/object-keys.ts';
import { startThrowawayS3, type ThrowawayS3 } from '../integration/throwaway-s3.ts';
import { isRevoked, liveMarkerKey, type LiveShare, type ShareMarker, type StoredShare } from './share-record.ts';
import { ShareService } from './share-service.ts';
import type { ShareStore } from './share-store.ts';

const BUCKET = 'share-service';
let s3: ThrowawayS3;

beforeAll(async () => {
  s3 = await startThrowawayS3(BUCKET);
});
afterAll(() => s3?.stop());

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
  async markers(fileKey: string): Promise<ShareMarker[]> {
    return (await this.listForFile(fileKey)).map((s) => ({
      key: liveMarkerKey(s.fileKey, s.id, s.expiresAt),
      id: s.id,
      state: 'live',
      expiresAt: s.expiresAt === null ? null : Date.parse(s.expiresAt),
    }));
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
  await s3.client.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: 'popular' }));
  const service = new ShareService({
    store: new SlowMemoryStore(),
    storage: { client: s3.client, bucket: BUCKET },
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

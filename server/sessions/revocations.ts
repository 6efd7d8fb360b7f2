import { DeleteObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { isNotFound, storageUnavailable } from '../storage/storage-errors.ts';

/** Where revocation records live: outside `uploads/` and `shares/`, so no route can sign, list or delete them. */
export const REVOKED_PREFIX = 'postbox/revoked-sessions/';

const MAX_CACHED = 10_000;
const SWEEP_EVERY_MS = 3600_000;

/**
 * Ended sessions, one empty object per session id in the bucket, so that every instance sharing
 * the bucket refuses a signed-out cookie and nothing else has to be run. Each instance remembers a
 * "not revoked" answer for `cacheMs` (how long a signed-out cookie may still work elsewhere) and a
 * "revoked" one for good; records older than the longest session are swept now and then.
 */
export class SessionRevocations {
  private readonly known = new Map<string, { revoked: Promise<boolean>; until: number }>();
  private lastSweep = 0;

  constructor(
    private readonly client: S3Client,
    private readonly bucket: string,
    private readonly options: { cacheMs: number; maxAgeSeconds: number; now?: () => number },
  ) {}

  private now(): number {
    return this.options.now?.() ?? Date.now();
  }

  async revoke(id: string): Promise<void> {
    try {
      await this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: REVOKED_PREFIX + id, Body: 'revoked' }));
    } catch (err) {
      throw storageUnavailable(err);
    }
    this.remember(id, Promise.resolve(true), Infinity);
    if (this.now() - this.lastSweep > SWEEP_EVERY_MS) {
      this.lastSweep = this.now();
      this.sweep().catch(() => {}); // best effort: the next sweep tries again
    }
  }

  /** Whether the session was ended; a storage failure is a 503 (never "not revoked"). */
  isRevoked(id: string): Promise<boolean> {
    const cached = this.known.get(id);
    if (cached && cached.until > this.now()) return cached.revoked;
    // One lookup per id at a time: parallel requests with one cookie wait for the same answer.
    const revoked = this.lookUp(id);
    this.remember(id, revoked, this.now() + this.options.cacheMs);
    revoked.catch(() => this.known.delete(id));
    return revoked;
  }

  private async lookUp(id: string): Promise<boolean> {
    try {
      await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: REVOKED_PREFIX + id }));
      return true;
    } catch (err) {
      if (isNotFound(err)) return false;
      throw storageUnavailable(err);
    }
  }

  private remember(id: string, revoked: Promise<boolean>, until: number): void {
    this.known.delete(id);
    this.known.set(id, { revoked, until });
    if (this.known.size <= MAX_CACHED) return;
    // Oldest first (Map order): a dropped id is looked up again on its next use.
    let drop = MAX_CACHED / 10;
    for (const key of this.known.keys()) {
      if (drop-- <= 0) break;
      this.known.delete(key);
    }
  }

  /** Deletes records whose session has ended anyway: written more than the longest session ago. */
  async sweep(): Promise<number> {
    const before = this.now() - (this.options.maxAgeSeconds + 60) * 1000;
    let swept = 0;
    let token: string | undefined;
    do {
      const page = await this.client.send(
        new ListObjectsV2Command({ Bucket: this.bucket, Prefix: REVOKED_PREFIX, ContinuationToken: token }),
      );
      for (const object of page.Contents ?? []) {
        if (!object.Key || !object.LastModified || object.LastModified.getTime() >= before) continue;
        await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: object.Key }));
        swept += 1;
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return swept;
  }
}

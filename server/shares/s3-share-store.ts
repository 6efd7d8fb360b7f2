import { DeleteObjectCommand, GetObjectCommand, ListObjectsCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { AppError } from '../errors/app-error.ts';
import { backOffAfterConflict } from '../storage/write-conflicts.ts';
import { isNotFound, storageUnavailable } from '../storage/storage-errors.ts';
import {
  deadToPrune,
  fileIndexPrefix,
  fileKeysOf,
  isBundle,
  isRevoked,
  legacyIndexKey,
  legacyRevokedIndexPrefix,
  liveMarkerKey,
  parseMarker,
  recordKey,
  revokedMarkerKey,
  StoredShare,
  type LiveShare,
  type ShareMarker,
} from './share-record.ts';
import { PerKeyQueue } from './per-key-queue.ts';
import type { ShareStore, UpdateConsistency } from './share-store.ts';

/** Attempts of one read-modify-write when other writers keep getting there first. */
const MAX_UPDATE_ATTEMPTS = 8;
/** Records fetched at once when listing a file's links. */
const LIST_CONCURRENCY = 8;

const httpStatus = (err: unknown) => (err as { $metadata?: { httpStatusCode?: number } } | null)?.$metadata?.httpStatusCode;
const errorName = (err: unknown) => (err as { name?: string } | null)?.name;
/** S3 refused a write because its If-Match no longer holds (412), or a parallel conditional write won (409). */
const isConflict = (err: unknown) =>
  httpStatus(err) === 412 || errorName(err) === 'PreconditionFailed' || errorName(err) === 'ConditionalRequestConflict';
/** The store does not do conditional writes at all. */
const isUnsupported = (err: unknown) => httpStatus(err) === 501 || errorName(err) === 'NotImplemented';

/**
 * Share records as small JSON objects in the bucket (layout in share-record.ts).
 *
 * Updates (download counts, revocation) are read-modify-write with `If-Match: <ETag read>`:
 * AWS S3, MinIO, R2 and Ceph RGW refuse a stale write with 412 and the update is read and applied
 * again. Two quirks are handled: Ceph RGW (16.x) compares If-Match with the ETag *without* its
 * quotes and refuses the quoted form with 412 even when nothing changed (then the bare form is
 * used from there on); a store that answers 501 to the header gets unconditional writes
 * (`consistency` becomes best-effort). s3rver, the embedded store, ignores If-Match silently:
 * across processes its updates are best effort, but the embedded store lives in one process, and
 * within a process updates of one record are serialized here anyway.
 */
export class S3ShareStore implements ShareStore {
  private etagForm: 'quoted' | 'bare' = 'quoted';
  private conditional = true;
  /** Per-record queue: one read-modify-write at a time per id in this process. */
  private readonly queue = new PerKeyQueue();

  constructor(private readonly storage: { client: S3Client; bucket: string }) {}

  get consistency(): UpdateConsistency {
    return this.conditional ? 'conditional' : 'best-effort';
  }

  async create(share: LiveShare): Promise<void> {
    // Markers first (one per file of a bundle): a record is never stored without the markers that list it.
    await this.eachBatch(fileKeysOf(share), (key) => this.put(liveMarkerKey(key, share.id, share.expiresAt, isBundle(share)), ''));
    await this.put(recordKey(share.id), JSON.stringify(share));
  }

  async get(id: string): Promise<StoredShare | undefined> {
    return (await this.read(id))?.share;
  }

  async markers(fileKey: string, now: number): Promise<ShareMarker[]> {
    const markers = await this.listMarkers(fileIndexPrefix(fileKey));
    const pruned = deadToPrune(markers, now);
    await this.removeLinks(pruned);
    const gone = new Set(pruned);
    return markers.filter((marker) => !gone.has(marker));
  }

  async listForFile(fileKey: string, now: number): Promise<LiveShare[]> {
    const ids = [...new Set((await this.markers(fileKey, now)).flatMap((m) => (m.state === 'live' ? [m.id] : [])))];
    const shares: LiveShare[] = [];
    for (let i = 0; i < ids.length; i += LIST_CONCURRENCY) {
      const batch = await Promise.all(ids.slice(i, i + LIST_CONCURRENCY).map((id) => this.get(id)));
      for (const share of batch) if (share && !isRevoked(share) && fileKeysOf(share).includes(fileKey)) shares.push(share);
    }
    return shares;
  }

  update(id: string, change: (current: StoredShare) => StoredShare | undefined) {
    return this.queue.run(id, async () => {
      for (let attempt = 1; ; attempt++) {
        const current = await this.read(id);
        if (!current) return undefined;
        const next = change(current.share);
        if (!next) return { share: current.share, changed: false };
        const revoking = !isRevoked(current.share) && isRevoked(next) ? { live: current.share, tombstone: next } : undefined;
        const keys = revoking ? fileKeysOf(revoking.live) : [];
        const bundle = revoking !== undefined && isBundle(revoking.live);
        if (revoking) await this.eachBatch(keys, (key) => this.put(revokedMarkerKey(key, id, revoking.tombstone.revokedAt, bundle), ''));
        try {
          await this.put(recordKey(id), JSON.stringify(next), current.etag);
        } catch (err) {
          if (!isConflict(err) || attempt >= MAX_UPDATE_ATTEMPTS) throw storageUnavailable(err);
          await this.learnEtagForm(id, current.etag);
          await backOffAfterConflict(attempt);
          continue;
        }
        if (revoking) {
          await this.eachBatch(keys, async (key) => {
            await this.remove(liveMarkerKey(key, id, revoking.live.expiresAt, bundle));
            if (!bundle) await this.remove(legacyIndexKey(key, id));
          });
        }
        return { share: next, changed: true };
      }
    });
  }

  /**
   * Deletes every link of a file, live and revoked: one LIST (two with older markers), then two
   * DELETEs per link. A live bundle with other files left keeps working without this one: the file
   * leaves its record and only this file's markers go (one more GET and PUT per such bundle).
   */
  async deleteForFile(fileKey: string): Promise<number> {
    const [current, legacy] = await Promise.all([
      this.listMarkers(fileIndexPrefix(fileKey)),
      this.listMarkers(legacyRevokedIndexPrefix(fileKey)),
    ]);
    const markers = [...current, ...legacy];
    const ids = [...new Set(markers.map((marker) => marker.id))];
    const liveBundles = [...new Set(markers.flatMap((marker) => (marker.bundle && marker.state === 'live' ? [marker.id] : [])))];
    const kept = new Set<string>();
    await this.eachBatch(liveBundles, async (id) => {
      if (await this.dropFromBundle(id, fileKey)) kept.add(id);
    });
    await this.removeLinks(markers.filter((marker) => !kept.has(marker.id)));
    await this.eachBatch(
      markers.filter((marker) => kept.has(marker.id)),
      (marker) => this.remove(marker.key),
    );
    return ids.length;
  }

  /**
   * Marks a file deleted in a live bundle that has other files; false when the link is not such a
   * bundle (it goes whole). True too when the bundle no longer lists the file (a marker left behind).
   */
  private async dropFromBundle(id: string, fileKey: string): Promise<boolean> {
    const result = await this.update(id, (current) => {
      if (isRevoked(current) || !current.files || !fileKeysOf(current).includes(fileKey) || fileKeysOf(current).length < 2) return undefined;
      const files = current.files.map((file) => (file.key === fileKey ? { ...file, deleted: true } : file));
      return { ...current, files, fileSize: files.reduce((sum, file) => sum + (file.deleted ? 0 : file.size), 0) };
    });
    if (!result || isRevoked(result.share) || !result.share.files) return false;
    return result.changed || (fileKeysOf(result.share).length > 0 && !fileKeysOf(result.share).includes(fileKey));
  }

  /** Runs `task` for every item, LIST_CONCURRENCY at a time. */
  private async eachBatch<T>(items: readonly T[], task: (item: T) => Promise<void>): Promise<void> {
    for (let i = 0; i < items.length; i += LIST_CONCURRENCY) await Promise.all(items.slice(i, i + LIST_CONCURRENCY).map(task));
  }

  /** Removes links, record first, then marker (a listing never finds a record without its marker). */
  private async removeLinks(markers: readonly ShareMarker[]): Promise<void> {
    const byId = new Map<string, string[]>();
    for (const marker of markers) byId.set(marker.id, [...(byId.get(marker.id) ?? []), marker.key]);
    const ids = [...byId.keys()];
    for (let i = 0; i < ids.length; i += LIST_CONCURRENCY) {
      await Promise.all(
        ids.slice(i, i + LIST_CONCURRENCY).map((id) =>
          this.queue.run(id, async () => {
            await this.remove(recordKey(id));
            for (const key of byId.get(id)!) await this.remove(key);
          }),
        ),
      );
    }
  }

  /** The markers under `prefix`, all pages. */
  private async listMarkers(prefix: string): Promise<ShareMarker[]> {
    const markers: ShareMarker[] = [];
    for (let marker: string | undefined; ; ) {
      const listing = await this.storage.client
        .send(new ListObjectsCommand({ Bucket: this.storage.bucket, Prefix: prefix, Marker: marker, MaxKeys: 1000 }))
        .catch((err) => {
          throw storageUnavailable(err);
        });
      const keys = (listing.Contents ?? []).flatMap((object) => (object.Key ? [object.Key] : []));
      for (const key of keys) {
        const parsed = parseMarker(key);
        if (parsed) markers.push(parsed);
      }
      if (!listing.IsTruncated || keys.length === 0) return markers;
      marker = keys.at(-1);
    }
  }

  private async read(id: string): Promise<{ share: StoredShare; etag: string } | undefined> {
    let text: string;
    let etag: string;
    try {
      const object = await this.storage.client.send(new GetObjectCommand({ Bucket: this.storage.bucket, Key: recordKey(id) }));
      text = await object.Body!.transformToString('utf8');
      etag = object.ETag ?? '';
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw storageUnavailable(err);
    }
    let parsed: StoredShare;
    try {
      parsed = StoredShare.parse(JSON.parse(text));
    } catch (err) {
      throw new AppError('internal_error', 'The record of a share link is damaged.', { cause: err });
    }
    if (parsed.id !== id) throw new AppError('internal_error', 'The record of a share link names another link.');
    return { share: parsed, etag };
  }

  private async put(key: string, body: string, etag?: string): Promise<void> {
    const ifMatch = etag && this.conditional ? (this.etagForm === 'bare' ? etag.replace(/"/g, '') : etag) : undefined;
    const command = () =>
      new PutObjectCommand({
        Bucket: this.storage.bucket,
        Key: key,
        Body: Buffer.from(body, 'utf8'),
        ContentLength: Buffer.byteLength(body, 'utf8'),
        ContentType: body ? 'application/json' : 'application/octet-stream',
        CacheControl: 'no-store',
        IfMatch: ifMatch,
      });
    try {
      await this.storage.client.send(command());
    } catch (err) {
      if (ifMatch === undefined || !isUnsupported(err)) {
        if (ifMatch !== undefined && isConflict(err)) throw err; // the caller retries
        throw storageUnavailable(err);
      }
      // The store refuses conditional writes: count on a best-effort basis from now on.
      this.conditional = false;
      await this.put(key, body);
    }
  }

  /**
   * After a 412: if the record is unchanged, the store did not accept our form of the ETag (RGW
   * wants it without quotes), so switch forms; if it changed, someone else wrote first.
   */
  private async learnEtagForm(id: string, sent: string): Promise<void> {
    const now = await this.read(id);
    if (now && now.etag.replace(/"/g, '') === sent.replace(/"/g, '')) {
      this.etagForm = this.etagForm === 'quoted' ? 'bare' : 'quoted';
    }
  }

  private async remove(key: string): Promise<void> {
    await this.storage.client.send(new DeleteObjectCommand({ Bucket: this.storage.bucket, Key: key })).catch((err) => {
      if (!isNotFound(err)) throw storageUnavailable(err);
    });
  }
}

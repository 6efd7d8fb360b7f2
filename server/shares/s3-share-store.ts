import { JsonRecords, WriteConflict, type BucketRef } from '../storage/json-records.ts';
import { storageUnavailable } from '../storage/storage-errors.ts';
import { backOffAfterConflict } from '../storage/write-conflicts.ts';
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

/**
 * Share records as small JSON objects in the bucket (layout in share-record.ts), markers as empty
 * objects beside them.
 *
 * Updates (download counts, revocation) are read-modify-write with `If-Match: <ETag read>`:
 * AWS S3, MinIO, R2 and Ceph RGW refuse a stale write with 412 and the update is read and applied
 * again. JsonRecords handles the stores' quirks (RGW's bare ETag; a store answering 501 gets
 * unconditional writes and `consistency` becomes best-effort). s3rver, the embedded store, ignores
 * If-Match silently: across processes its updates are best effort, but the embedded store lives in
 * one process, and within a process updates of one record are serialized here anyway.
 */
export class S3ShareStore implements ShareStore {
  private readonly records: JsonRecords;
  /** Per-record queue: one read-modify-write at a time per id in this process. */
  private readonly queue = new PerKeyQueue();

  constructor(storage: BucketRef) {
    this.records = new JsonRecords(storage);
  }

  get consistency(): UpdateConsistency {
    return this.records.conditionalWrites ? 'conditional' : 'best-effort';
  }

  async create(share: LiveShare): Promise<void> {
    // Markers first (one per file of a bundle): a record is never stored without the markers that list it.
    const marker = (key: string) => this.records.overwrite(liveMarkerKey(key, share.id, share.expiresAt, isBundle(share)));
    await this.eachBatch(fileKeysOf(share), marker);
    await this.records.overwrite(recordKey(share.id), share);
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
        if (revoking) {
          const at = revoking.tombstone.revokedAt;
          await this.eachBatch(keys, (key) => this.records.overwrite(revokedMarkerKey(key, id, at, bundle)));
        }
        try {
          await this.records.write(recordKey(id), next, current.etag);
        } catch (err) {
          if (!(err instanceof WriteConflict) || attempt >= MAX_UPDATE_ATTEMPTS) throw storageUnavailable(err);
          await backOffAfterConflict(attempt);
          continue;
        }
        if (revoking) {
          await this.eachBatch(keys, async (key) => {
            await this.records.remove(liveMarkerKey(key, id, revoking.live.expiresAt, bundle));
            if (!bundle) await this.records.remove(legacyIndexKey(key, id));
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
      (marker) => this.records.remove(marker.key),
    );
    return ids.length;
  }

  /**
   * Marks a file deleted in a live bundle that has other files; false when the link is not such a
   * bundle (it goes whole). True too when the bundle no longer lists the file (a marker left behind).
   */
  private async dropFromBundle(id: string, fileKey: string): Promise<boolean> {
    const result = await this.update(id, (current) => {
      if (isRevoked(current) || !current.files || !fileKeysOf(current).includes(fileKey) || fileKeysOf(current).length < 2)
        return undefined;
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
            await this.records.remove(recordKey(id));
            for (const key of byId.get(id)!) await this.records.remove(key);
          }),
        ),
      );
    }
  }

  /** The markers under `prefix`, all pages. */
  private async listMarkers(prefix: string): Promise<ShareMarker[]> {
    return (await this.records.list(prefix)).flatMap(({ key }) => parseMarker(key) ?? []);
  }

  private async read(id: string): Promise<{ share: StoredShare; etag: string } | undefined> {
    const found = await this.records.readRecord(recordKey(id), id, StoredShare, 'a share link');
    return found && { share: found.value, etag: found.etag };
  }
}

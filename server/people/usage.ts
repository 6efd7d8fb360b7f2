import { z } from 'zod';
import { AppError } from '../errors/app-error.ts';
import { backOffAfterConflict } from '../storage/write-conflicts.ts';
import { formatBytes } from '../../contract/api.ts';
import { PerKeyQueue } from '../shares/per-key-queue.ts';
import { parseUploadKey, UPLOAD_PREFIX } from '../signing/object-keys.ts';
import { THUMBNAIL_PREFIX } from '../signing/thumbnails.ts';
import { storageUnavailable } from '../storage/storage-errors.ts';
import { JsonRecords, WriteConflict, type BucketRef } from '../storage/json-records.ts';
import { LOCAL_PERSON, PEOPLE_PREFIX, spaceFor } from './person.ts';

/** Outside `uploads/` and `people/`: no route can sign, list or delete these. */
export const USAGE_PREFIX = 'postbox/usage/';
/** A record older than this is corrected from a listing of the person's space before it is used. */
export const USAGE_RECHECK_MS = 10 * 60_000;
/** How long a multipart upload's declared size stays reserved (its token does not expire; stale ones are aborted after a day). */
export const MULTIPART_RESERVATION_MS = 24 * 3600_000;
/** Reservations one record holds before the next signing lists the space first. */
const MAX_RESERVATIONS = 500;
const MAX_ATTEMPTS = 8;

const Reservation = z.object({ key: z.string(), size: z.number(), until: z.number() });
type Reservation = z.infer<typeof Reservation>;

const UsageRecord = z.object({
  version: z.literal(1),
  personId: z.string(),
  space: z.string(),
  /** Bytes and files of the person's space at the last listing, plus completed reservations' and minus deletes since. */
  bytes: z.number(),
  files: z.number(),
  /** Uploads signed since the last listing (declared size, policy end in ms): maybe stored, maybe in flight, maybe never. */
  reserved: z.array(Reservation),
  checkedAt: z.number(),
});
export type UsageRecord = z.infer<typeof UsageRecord>;

export interface Owner {
  id: string;
  space: string;
}

/** Whose a key's space is: the local person for '', else the id in `people/<id>/`. */
export function ownerOfSpace(space: string): Owner {
  if (space === '') return { id: LOCAL_PERSON.id, space };
  const id = space.slice(PEOPLE_PREFIX.length, -1);
  return { id, space: spaceFor(id) };
}

export const usageKey = (personId: string) => `${USAGE_PREFIX}${personId}.json`;
export const usedBytes = (record: Pick<UsageRecord, 'bytes' | 'reserved'>) =>
  record.bytes + record.reserved.reduce((sum, r) => sum + r.size, 0);

export function quotaExceeded(needs: number, used: number, quota: number): AppError {
  const left = Math.max(0, quota - used);
  return new AppError(
    'quota_exceeded',
    `This upload needs ${formatBytes(needs)} but you have ${formatBytes(left)} left of ${formatBytes(quota)}.`,
  );
}

/**
 * Per-person usage kept in the bucket (`postbox/usage/<id>.json`), so that a quota check costs one
 * GET and one conditional PUT, not a listing. Signing an upload reserves its declared size (which
 * S3 enforces: exact content-length for a POST, the part URLs' lengths for multipart); a listing
 * of the person's space replaces the stored figures when the record is older than USAGE_RECHECK_MS
 * or a reservation has run out (then only the listing knows whether it was used).
 */
export class UsageBook {
  private readonly records: JsonRecords;
  private readonly queue = new PerKeyQueue();
  private readonly now: () => number;

  constructor(storage: BucketRef, options: { now?: () => number } = {}) {
    this.records = new JsonRecords(storage);
    this.now = options.now ?? Date.now;
  }

  /** The person's usage, corrected from a listing when stale. */
  current(owner: Owner): Promise<UsageRecord> {
    return this.change(owner, () => undefined);
  }

  /** Reserves `size` bytes for a signed upload, or refuses with 413 quota_exceeded when it would pass `quota`. */
  reserve(owner: Owner, reservation: Reservation, quota: number): Promise<UsageRecord> {
    return this.change(owner, (record) => {
      const used = usedBytes(record);
      if (used + reservation.size > quota) throw quotaExceeded(reservation.size, used, quota);
      return { ...record, reserved: [...record.reserved, reservation] };
    });
  }

  /** A file of the space was deleted: its reservation, or its bytes, no longer count. */
  released(key: string, size: number): Promise<UsageRecord> {
    const parts = parseUploadKey(key);
    if (!parts) throw new Error('not an upload key');
    return this.change(ownerOfSpace(parts.space), (record) => {
      if (record.reserved.some((r) => r.key === key)) return { ...record, reserved: record.reserved.filter((r) => r.key !== key) };
      return { ...record, bytes: Math.max(0, record.bytes - size), files: Math.max(0, record.files - 1) };
    });
  }

  /** Everything of the space was removed: counts start again from zero. */
  cleared(owner: Owner): Promise<UsageRecord> {
    return this.change(owner, (record) => ({ ...record, bytes: 0, files: 0, reserved: [], checkedAt: this.now() }));
  }

  /** Drops the record: the next use counts from a listing (after files arrived in the space another way). */
  forget(owner: Owner): Promise<void> {
    return this.queue.run(owner.id, () => this.records.remove(usageKey(owner.id)));
  }

  /** Every usage record there is (for admins). */
  async all(): Promise<string[]> {
    const found = await this.records.list(USAGE_PREFIX);
    return found.flatMap(({ key }) => {
      const id = key.slice(USAGE_PREFIX.length).replace(/\.json$/, '');
      return id === LOCAL_PERSON.id || /^[0-9a-f]{16,64}$/.test(id) ? [id] : [];
    });
  }

  /**
   * Read-modify-write with the record's ETag; `edit` returns the new record, or undefined to keep it
   * (it may run again when another instance wrote first). Serialized per person in this process.
   */
  private change(owner: Owner, edit: (record: UsageRecord) => UsageRecord | undefined): Promise<UsageRecord> {
    return this.queue.run(owner.id, async () => {
      for (let attempt = 1; ; attempt++) {
        const stored = await this.read(owner);
        const fresh = stored && !this.isStale(stored.record) ? stored.record : await this.recount(owner, stored?.record);
        const next = edit(fresh);
        if (!next && fresh === stored?.record) return fresh;
        try {
          await this.records.write(usageKey(owner.id), next ?? fresh, stored?.etag);
          return next ?? fresh;
        } catch (err) {
          if (!(err instanceof WriteConflict) || attempt >= MAX_ATTEMPTS) throw storageUnavailable(err);
          await backOffAfterConflict(attempt);
        }
      }
    });
  }

  private async read(owner: Owner): Promise<{ record: UsageRecord; etag: string } | undefined> {
    const found = await this.records.read(usageKey(owner.id));
    if (!found) return undefined;
    const parsed = UsageRecord.safeParse(found.value);
    // A damaged or foreign record is replaced by a listing, not trusted.
    if (!parsed.success || parsed.data.personId !== owner.id || parsed.data.space !== owner.space) {
      return { record: { ...this.empty(owner), checkedAt: 0 }, etag: found.etag };
    }
    return { record: parsed.data, etag: found.etag };
  }

  private isStale(record: UsageRecord): boolean {
    const now = this.now();
    return (
      now - record.checkedAt > USAGE_RECHECK_MS || record.reserved.length >= MAX_RESERVATIONS || record.reserved.some((r) => r.until <= now)
    );
  }

  private empty(owner: Owner): UsageRecord {
    return { version: 1, personId: owner.id, space: owner.space, bytes: 0, files: 0, reserved: [], checkedAt: this.now() };
  }

  /** Bytes and files from a listing of the space (its files and thumbnails); reservations the listing does not show yet and that can still be used stay. */
  private async recount(owner: Owner, previous: UsageRecord | undefined): Promise<UsageRecord> {
    const now = this.now();
    const objects = (await this.records.list(owner.space + UPLOAD_PREFIX)).filter(({ key }) => parseUploadKey(key)?.space === owner.space);
    // Thumbnails count too (not as files): one can outlive its file (posted after the delete).
    const thumbnails = await this.records.list(owner.space + THUMBNAIL_PREFIX);
    const stored = new Set([...objects, ...thumbnails].map(({ key }) => key));
    return {
      ...this.empty(owner),
      bytes: [...objects, ...thumbnails].reduce((sum, { size }) => sum + size, 0),
      files: objects.length,
      reserved: (previous?.reserved ?? []).filter((r) => r.until > now && !stored.has(r.key)),
      checkedAt: now,
    };
  }
}

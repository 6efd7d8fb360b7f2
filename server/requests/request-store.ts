import { PerKeyQueue } from '../shares/per-key-queue.ts';
import { JsonRecords, WriteConflict, type BucketRef } from '../storage/json-records.ts';
import { storageUnavailable } from '../storage/storage-errors.ts';
import { backOffAfterConflict } from '../storage/write-conflicts.ts';
import { ownerIndexPrefix, ownerMarkerKey, RequestRecord, requestRecordKey } from './request-record.ts';

/** Attempts of one read-modify-write while other writers keep getting there first (10 visitors at once need up to 10). */
const MAX_UPDATE_ATTEMPTS = 32;
const READ_CONCURRENCY = 8;

/**
 * Request records as JSON objects in the bucket (layout in request-record.ts). Every change is a
 * read-modify-write with `If-Match: <ETag read>`, retried after a lost write (JsonRecords handles
 * the stores' quirks; s3rver ignores If-Match, which is safe only because the embedded store lives
 * in one process, where the per-record queue serializes updates).
 */
export class S3RequestStore {
  private readonly records: JsonRecords;
  private readonly queue = new PerKeyQueue();

  constructor(storage: BucketRef) {
    this.records = new JsonRecords(storage);
  }

  async create(record: RequestRecord): Promise<void> {
    // Marker first: a record is never stored without the marker that lists it.
    await this.records.write(ownerMarkerKey(record.owner.id, record.id), {}, undefined);
    await this.records.write(requestRecordKey(record.id), record, undefined);
  }

  async get(id: string): Promise<RequestRecord | undefined> {
    return (await this.read(id))?.record;
  }

  /** The person's links, newest first. */
  async listForOwner(personId: string): Promise<RequestRecord[]> {
    const ids = await this.listIds(ownerIndexPrefix(personId));
    const records: RequestRecord[] = [];
    for (let i = 0; i < ids.length; i += READ_CONCURRENCY) {
      const batch = await Promise.all(ids.slice(i, i + READ_CONCURRENCY).map((id) => this.get(id)));
      for (const record of batch) if (record && record.owner.id === personId) records.push(record);
    }
    return records.sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  }

  /**
   * Read-modify-write: `change` returns the new record, undefined to leave it, or throws (a refusal,
   * which reaches the caller). Returns what is stored afterwards, or undefined when there is no record.
   */
  update(id: string, change: (current: RequestRecord) => RequestRecord | undefined): Promise<RequestRecord | undefined> {
    return this.queue.run(id, async () => {
      for (let attempt = 1; ; attempt++) {
        const current = await this.read(id);
        if (!current) return undefined;
        const next = change(current.record);
        if (!next) return current.record;
        try {
          await this.records.write(requestRecordKey(id), next, current.etag);
          return next;
        } catch (err) {
          if (!(err instanceof WriteConflict) || attempt >= MAX_UPDATE_ATTEMPTS) throw storageUnavailable(err);
          await backOffAfterConflict(attempt);
        }
      }
    });
  }

  /** V1 listing (JsonRecords.list): s3rver fails V2 listings past one page. */
  private async listIds(prefix: string): Promise<string[]> {
    return (await this.records.list(prefix)).map(({ key }) => key.slice(prefix.length));
  }

  private async read(id: string): Promise<{ record: RequestRecord; etag: string } | undefined> {
    const found = await this.records.readRecord(requestRecordKey(id), id, RequestRecord, 'a request link');
    return found && { record: found.value, etag: found.etag };
  }

  async remove(key: string): Promise<void> {
    await this.records.remove(key);
  }
}

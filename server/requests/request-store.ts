import { DeleteObjectCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { AppError } from '../errors/app-error.ts';
import { backOffAfterConflict } from '../storage/write-conflicts.ts';
import { PerKeyQueue } from '../shares/per-key-queue.ts';
import { isNotFound, storageUnavailable } from '../storage/storage-errors.ts';
import { ownerIndexPrefix, ownerMarkerKey, RequestRecord, requestRecordKey } from './request-record.ts';

/** Attempts of one read-modify-write while other writers keep getting there first (10 visitors at once need up to 10). */
const MAX_UPDATE_ATTEMPTS = 32;
const READ_CONCURRENCY = 8;

const httpStatus = (err: unknown) => (err as { $metadata?: { httpStatusCode?: number } } | null)?.$metadata?.httpStatusCode;
const errorName = (err: unknown) => (err as { name?: string } | null)?.name;
const isConflict = (err: unknown) =>
  httpStatus(err) === 412 || httpStatus(err) === 409 || errorName(err) === 'PreconditionFailed' || errorName(err) === 'ConditionalRequestConflict';

/**
 * Request records as JSON objects in the bucket (layout in request-record.ts). Every change is a
 * read-modify-write with `If-Match: <ETag read>`, retried on 412, as share records are (see
 * S3ShareStore for the two quirks handled the same way here: RGW 16 wants the ETag without quotes;
 * s3rver ignores If-Match, which is safe only because the embedded store lives in one process, where
 * the per-record queue serializes updates).
 */
export class S3RequestStore {
  private etagForm: 'quoted' | 'bare' = 'quoted';
  private readonly queue = new PerKeyQueue();

  constructor(private readonly storage: { client: S3Client; bucket: string }) {}

  async create(record: RequestRecord): Promise<void> {
    // Marker first: a record is never stored without the marker that lists it.
    await this.put(ownerMarkerKey(record.owner.id, record.id), '');
    await this.put(requestRecordKey(record.id), JSON.stringify(record));
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
          await this.put(requestRecordKey(id), JSON.stringify(next), current.etag);
          return next;
        } catch (err) {
          if (!isConflict(err) || attempt >= MAX_UPDATE_ATTEMPTS) throw storageUnavailable(err);
          await this.learnEtagForm(id, current.etag);
          await backOffAfterConflict(attempt);
        }
      }
    });
  }

  private async listIds(prefix: string): Promise<string[]> {
    const ids: string[] = [];
    for (let token: string | undefined; ; ) {
      const page = await this.storage.client
        .send(new ListObjectsV2Command({ Bucket: this.storage.bucket, Prefix: prefix, ContinuationToken: token }))
        .catch((err) => {
          throw storageUnavailable(err);
        });
      for (const object of page.Contents ?? []) if (object.Key) ids.push(object.Key.slice(prefix.length));
      if (!page.IsTruncated || !page.NextContinuationToken) return ids;
      token = page.NextContinuationToken;
    }
  }

  private async read(id: string): Promise<{ record: RequestRecord; etag: string } | undefined> {
    let text: string;
    let etag: string;
    try {
      const object = await this.storage.client.send(new GetObjectCommand({ Bucket: this.storage.bucket, Key: requestRecordKey(id) }));
      text = await object.Body!.transformToString('utf8');
      etag = object.ETag ?? '';
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw storageUnavailable(err);
    }
    let record: RequestRecord;
    try {
      record = RequestRecord.parse(JSON.parse(text));
    } catch (err) {
      throw new AppError('internal_error', 'The record of a request link is damaged.', { cause: err });
    }
    if (record.id !== id) throw new AppError('internal_error', 'The record of a request link names another link.');
    return { record, etag };
  }

  private async put(key: string, body: string, etag?: string): Promise<void> {
    const ifMatch = etag ? (this.etagForm === 'bare' ? etag.replace(/"/g, '') : etag) : undefined;
    try {
      await this.storage.client.send(
        new PutObjectCommand({
          Bucket: this.storage.bucket,
          Key: key,
          Body: Buffer.from(body, 'utf8'),
          ContentLength: Buffer.byteLength(body, 'utf8'),
          ContentType: body ? 'application/json' : 'application/octet-stream',
          CacheControl: 'no-store',
          IfMatch: ifMatch,
        }),
      );
    } catch (err) {
      if (ifMatch !== undefined && isConflict(err)) throw err; // the caller retries
      throw storageUnavailable(err);
    }
  }

  /** After a 412: an unchanged record means the store wants the other form of the ETag (RGW: bare). */
  private async learnEtagForm(id: string, sent: string): Promise<void> {
    const now = await this.read(id);
    if (now && now.etag.replace(/"/g, '') === sent.replace(/"/g, '')) this.etagForm = this.etagForm === 'quoted' ? 'bare' : 'quoted';
  }

  async remove(key: string): Promise<void> {
    await this.storage.client.send(new DeleteObjectCommand({ Bucket: this.storage.bucket, Key: key })).catch((err) => {
      if (!isNotFound(err)) throw storageUnavailable(err);
    });
  }
}

import { DeleteObjectCommand, GetObjectCommand, ListObjectsCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { z } from 'zod';
import { AppError } from '../errors/app-error.ts';
import { isNotFound, storageUnavailable } from './storage-errors.ts';

export interface BucketRef {
  client: S3Client;
  bucket: string;
}

const httpStatus = (err: unknown) => (err as { $metadata?: { httpStatusCode?: number } } | null)?.$metadata?.httpStatusCode;
const errorName = (err: unknown) => (err as { name?: string } | null)?.name;
/** A conditional write lost: If-Match no longer holds / If-None-Match found an object (412), or a parallel one won (409). */
export const isConflict = (err: unknown) =>
  httpStatus(err) === 412 ||
  httpStatus(err) === 409 ||
  errorName(err) === 'PreconditionFailed' ||
  errorName(err) === 'ConditionalRequestConflict';
const isUnsupported = (err: unknown) => httpStatus(err) === 501 || errorName(err) === 'NotImplemented';

/** A damaged record reads as null: callers validate what they read anyway. */
function parseOrNull(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return null;
  }
}

/** A conditional write lost to another writer: read again and retry. */
export class WriteConflict extends Error {
  constructor() {
    super('another writer changed the record first');
    this.name = 'WriteConflict';
  }
}

/**
 * Small JSON records in the bucket with optimistic concurrency (share, request and usage records):
 * updates carry If-Match with the ETag read, first writes If-None-Match: *.
 * Ceph RGW 16 wants the ETag without quotes (learned on the first refused write whose record did
 * not change); a store answering 501 gets plain writes from then on. s3rver ignores both headers:
 * callers serialize per record within the process.
 */
export class JsonRecords {
  private etagForm: 'quoted' | 'bare' = 'quoted';
  private conditional = true;

  constructor(private readonly storage: BucketRef) {}

  /** False once the store answered 501 to a conditional write: writes are plain (best effort) from then on. */
  get conditionalWrites(): boolean {
    return this.conditional;
  }

  async read(key: string): Promise<{ value: unknown; etag: string } | undefined> {
    try {
      const object = await this.storage.client.send(new GetObjectCommand({ Bucket: this.storage.bucket, Key: key }));
      const text = await object.Body!.transformToString('utf8');
      return { value: parseOrNull(text), etag: object.ETag ?? '' };
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw storageUnavailable(err);
    }
  }

  /**
   * The record of `id` at `key`, checked against `schema`; undefined when there is none. One that is
   * not JSON, not of that shape or of another id is damaged: an internal error naming `what` ("a share link").
   */
  async readRecord<T extends { id: string }>(
    key: string,
    id: string,
    schema: z.ZodType<T>,
    what: string,
  ): Promise<{ value: T; etag: string } | undefined> {
    const found = await this.read(key);
    if (!found) return undefined;
    const parsed = schema.safeParse(found.value);
    if (!parsed.success) throw new AppError('internal_error', `The record of ${what} is damaged.`, { cause: parsed.error });
    if (parsed.data.id !== id) throw new AppError('internal_error', `The record of ${what} names another link.`);
    return { value: parsed.data, etag: found.etag };
  }

  /**
   * Writes `value` if the record is still at `etag` (undefined: if there is none yet); throws
   * WriteConflict when another writer got there first.
   */
  async write(key: string, value: unknown, etag: string | undefined): Promise<void> {
    const body = JSON.stringify(value);
    const condition = this.conditional
      ? etag === undefined
        ? { IfNoneMatch: '*' }
        : { IfMatch: this.etagForm === 'bare' ? etag.replace(/"/g, '') : etag }
      : {};
    try {
      await this.put(key, body, condition);
    } catch (err) {
      if (this.conditional && isUnsupported(err)) {
        this.conditional = false;
        return this.put(key, body, {}).catch((again: unknown) => {
          throw storageUnavailable(again);
        });
      }
      if (!isConflict(err)) throw storageUnavailable(err);
      if (etag !== undefined) await this.learnEtagForm(key, etag);
      throw new WriteConflict();
    }
  }

  /**
   * Writes with no condition: `value` as JSON, or, with none, an empty marker whose key says it all
   * (share-record.ts). For objects under fresh random ids and markers, where there is nothing to guard.
   */
  async overwrite(key: string, value?: unknown): Promise<void> {
    await this.put(key, value === undefined ? '' : JSON.stringify(value), {}).catch((err: unknown) => {
      throw storageUnavailable(err);
    });
  }

  async remove(key: string): Promise<void> {
    await this.storage.client.send(new DeleteObjectCommand({ Bucket: this.storage.bucket, Key: key })).catch((err: unknown) => {
      if (!isNotFound(err)) throw storageUnavailable(err);
    });
  }

  /** Every key and size under `prefix`, all pages (V1 listing: see uploads-store.ts). */
  async list(prefix: string): Promise<{ key: string; size: number }[]> {
    const found: { key: string; size: number }[] = [];
    for (let marker: string | undefined; ;) {
      const page = await this.storage.client
        .send(new ListObjectsCommand({ Bucket: this.storage.bucket, Prefix: prefix, Marker: marker, MaxKeys: 1000 }))
        .catch((err: unknown) => {
          throw storageUnavailable(err);
        });
      for (const object of page.Contents ?? []) if (object.Key) found.push({ key: object.Key, size: object.Size ?? 0 });
      const last = page.Contents?.at(-1)?.Key;
      if (!page.IsTruncated || !last) return found;
      marker = last;
    }
  }

  private async put(key: string, body: string, condition: { IfMatch?: string; IfNoneMatch?: string }): Promise<void> {
    await this.storage.client.send(
      new PutObjectCommand({
        Bucket: this.storage.bucket,
        Key: key,
        Body: Buffer.from(body, 'utf8'),
        ContentLength: Buffer.byteLength(body, 'utf8'),
        ContentType: body ? 'application/json' : 'application/octet-stream',
        CacheControl: 'no-store',
        ...condition,
      }),
    );
  }

  /** After a refused If-Match: an unchanged record means the store wants the other form of the ETag. */
  private async learnEtagForm(key: string, sent: string): Promise<void> {
    const now = await this.read(key);
    if (now && now.etag.replace(/"/g, '') === sent.replace(/"/g, '')) this.etagForm = this.etagForm === 'quoted' ? 'bare' : 'quoted';
  }
}

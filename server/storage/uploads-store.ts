import { DeleteObjectCommand, HeadBucketCommand, HeadObjectCommand, ListObjectsCommand } from '@aws-sdk/client-s3';
import { AppError } from '../errors/app-error.ts';
import type { FilePage } from '../../contract/api.ts';
import { parseUploadKey, UPLOAD_PREFIX } from '../signing/object-keys.ts';
import type { Storage } from './storage.ts';
import { isNotFound, storageUnavailable } from './storage-errors.ts';

/** The server's own S3 calls on uploaded files. */
export class UploadsStore {
  constructor(private readonly storage: Storage) {}

  /**
   * One listing request per page: names, types and sizes come from the keys and the listing.
   * The cursor is the last key of the previous page (a V1 marker). ListObjectsV2 would do the
   * same, but s3rver 3.7 makes its continuation tokens with DES, which OpenSSL 3 (Node 20) lacks:
   * every truncated V2 listing fails there with a 500. Every S3 implementation supports V1.
   */
  async list(options: { cursor?: string; limit: number; space?: string }): Promise<FilePage> {
    const page = await this.storage.client
      .send(
        new ListObjectsCommand({
          Bucket: this.storage.bucket,
          // Only the person's own files: their space (server/people/person.ts) before uploads/.
          Prefix: `${options.space ?? ''}${UPLOAD_PREFIX}`,
          MaxKeys: options.limit,
          Marker: options.cursor,
        }),
      )
      .catch((err) => {
        throw storageUnavailable(err);
      });

    const files: FilePage['files'] = [];
    for (const object of page.Contents ?? []) {
      const parts = object.Key ? parseUploadKey(object.Key) : undefined;
      if (!parts) continue;
      files.push({
        key: object.Key!,
        name: parts.name,
        type: parts.contentType,
        size: object.Size ?? 0,
        uploadedAt: (object.LastModified ?? parts.signedAt).toISOString(),
      });
    }
    const lastKey = page.Contents?.at(-1)?.Key;
    return { files, nextCursor: page.IsTruncated && lastKey ? lastKey : null };
  }

  /** The object's size; throws not_found when the object is missing. */
  async assertExists(key: string): Promise<number> {
    try {
      const head = await this.storage.client.send(new HeadObjectCommand({ Bucket: this.storage.bucket, Key: key }));
      return head.ContentLength ?? 0;
    } catch (err) {
      if (isNotFound(err)) throw new AppError('not_found', 'That file does not exist (any more).');
      throw storageUnavailable(err);
    }
  }

  /** Returns the size the file had (for usage records). */
  async delete(key: string): Promise<number> {
    const size = await this.assertExists(key);
    await this.storage.client.send(new DeleteObjectCommand({ Bucket: this.storage.bucket, Key: key })).catch((err) => {
      throw storageUnavailable(err);
    });
    return size;
  }

  /** A HeadBucket round trip: its time when the bucket answers, else the failure. */
  async ping(): Promise<{ reachable: true; latencyMs: number } | { reachable: false; error: unknown }> {
    const started = performance.now();
    try {
      await this.storage.client.send(new HeadBucketCommand({ Bucket: this.storage.bucket }));
      return { reachable: true, latencyMs: Math.round(performance.now() - started) };
    } catch (error) {
      return { reachable: false, error };
    }
  }
}

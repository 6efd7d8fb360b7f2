import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListPartsCommand,
} from '@aws-sdk/client-s3';
import { AppError } from '../errors/app-error.ts';
import type { StaleUploads, UploadedPart } from '../../contract/api.ts';
import { parseUploadKey, UPLOAD_PREFIX } from '../signing/object-keys.ts';
import type { Storage } from './storage.ts';
import { isNoSuchUpload, isNotFound, orUnavailable, storageUnavailable } from './storage-errors.ts';

/** What a gone upload answers; another person's upload answers exactly the same. */
export const uploadNotFound = (cause?: unknown) =>
  new AppError('not_found', 'That upload does not exist (any more): it was completed, cancelled or cleaned up.', { cause });

const noSuchUpload = (err: unknown) => (isNoSuchUpload(err) ? uploadNotFound(err) : storageUnavailable(err));

/**
 * How long a CompleteMultipartUpload of `size` bytes may take, retries included: storage joins the
 * parts first (S3 says minutes for large objects; the embedded store copies them, ~5 s per GiB on
 * this machine's disk), so at least 5 minutes and 20 s more per GiB. A browser whose Complete still
 * times out asks again and gets the running join's outcome.
 */
const completeTimeoutMs = (size: number) => Math.max(5 * 60_000, Math.ceil((size / 2 ** 30) * 20_000));

/** The server's own S3 calls for multipart uploads. The bytes never pass through here. */
export class MultipartStore {
  constructor(private readonly storage: Storage) {}

  async create(input: { key: string; contentType: string; contentDisposition: string; originalName: string }): Promise<string> {
    const answer = await orUnavailable(
      this.storage.client.send(
        new CreateMultipartUploadCommand({
          Bucket: this.storage.bucket,
          Key: input.key,
          ContentType: input.contentType,
          ContentDisposition: input.contentDisposition,
          Metadata: { 'original-name': input.originalName },
        }),
      ),
    );
    if (!answer.UploadId) throw storageUnavailable(new Error('CreateMultipartUpload answered without an UploadId'));
    return answer.UploadId;
  }

  /** Every part storage has for this upload (ListParts pages of 1000). */
  async listParts(key: string, uploadId: string): Promise<UploadedPart[]> {
    const parts: UploadedPart[] = [];
    let marker: string | undefined;
    for (;;) {
      const page = await this.storage.client
        .send(new ListPartsCommand({ Bucket: this.storage.bucket, Key: key, UploadId: uploadId, PartNumberMarker: marker, MaxParts: 1000 }))
        .catch((err) => {
          throw noSuchUpload(err);
        });
      for (const part of page.Parts ?? []) {
        if (part.PartNumber && part.ETag) parts.push({ partNumber: part.PartNumber, etag: part.ETag, size: part.Size ?? 0 });
      }
      if (!page.IsTruncated || !page.NextPartNumberMarker || String(page.NextPartNumberMarker) === marker) return parts;
      marker = String(page.NextPartNumberMarker);
    }
  }

  /** Completes the upload into an object of `size` bytes. */
  async complete(key: string, uploadId: string, parts: { partNumber: number; etag: string }[], size: number): Promise<void> {
    await this.storage.client
      .send(
        new CompleteMultipartUploadCommand({
          Bucket: this.storage.bucket,
          Key: key,
          UploadId: uploadId,
          MultipartUpload: { Parts: parts.map((p) => ({ PartNumber: p.partNumber, ETag: p.etag })) },
        }),
        // Storage joins the parts before it answers: for big files that takes far longer than a usual
        // call. The signal bounds all attempts together, not each one.
        { requestTimeout: completeTimeoutMs(size), abortSignal: AbortSignal.timeout(completeTimeoutMs(size)) },
      )
      .catch(async (err) => {
        const code = (err as { name?: string }).name;
        if (code === 'InvalidPart' || code === 'InvalidPartOrder' || code === 'EntityTooSmall') {
          throw new AppError('invalid_request', `Storage refused the part list (${code}).`, { cause: err });
        }
        // An attempt storage finished after we stopped waiting (a timeout, an answer lost and the call
        // retried) leaves the object there and the upload id gone: that upload is complete.
        if ((await this.objectSize(key)) === size) return;
        throw noSuchUpload(err);
      });
  }

  /**
   * The size of the object an upload became, if it is there. Keys are made once per upload, so an
   * object under an upload's key is that upload, completed.
   */
  async objectSize(key: string): Promise<number | undefined> {
    try {
      const head = await this.storage.client.send(new HeadObjectCommand({ Bucket: this.storage.bucket, Key: key }));
      return head.ContentLength;
    } catch (err) {
      // Only "no such object" means no object: storage failing to say is a 503 the browser retries,
      // not "that file no longer exists" (after which it would send the whole file again).
      if (isNotFound(err)) return undefined;
      throw storageUnavailable(err);
    }
  }

  async abort(key: string, uploadId: string): Promise<void> {
    await this.storage.client
      .send(new AbortMultipartUploadCommand({ Bucket: this.storage.bucket, Key: key, UploadId: uploadId }))
      .catch((err) => {
        throw noSuchUpload(err);
      });
  }

  /** Unfinished uploads begun before `before`, of keys Postbox made (others it would refuse to abort). */
  async listStale(before: Date, space = ''): Promise<StaleUploads['uploads']> {
    const uploads: StaleUploads['uploads'] = [];
    let keyMarker: string | undefined;
    let uploadIdMarker: string | undefined;
    for (let page = 0; page < 100; page++) {
      const answer = await orUnavailable(
        this.storage.client.send(
          new ListMultipartUploadsCommand({
            Bucket: this.storage.bucket,
            Prefix: `${space}${UPLOAD_PREFIX}`, // only the person's own
            KeyMarker: keyMarker,
            UploadIdMarker: uploadIdMarker,
            MaxUploads: 1000,
          }),
        ),
      );
      for (const upload of answer.Uploads ?? []) {
        const parts = upload.Key ? parseUploadKey(upload.Key) : undefined;
        if (!parts || !upload.UploadId) continue;
        const initiated = upload.Initiated ?? parts.signedAt;
        if (initiated > before) continue;
        uploads.push({
          key: upload.Key!,
          uploadId: upload.UploadId,
          name: parts.name,
          type: parts.contentType,
          initiatedAt: initiated.toISOString(),
        });
      }
      if (!answer.IsTruncated || !answer.NextKeyMarker) break;
      keyMarker = answer.NextKeyMarker;
      uploadIdMarker = answer.NextUploadIdMarker;
    }
    return uploads;
  }
}

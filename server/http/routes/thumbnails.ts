import { DeleteObjectCommand } from '@aws-sdk/client-s3';
import type { Router } from 'express';
import type { Config } from '../../config/config.ts';
import { AppError } from '../../errors/app-error.ts';
import { thumbnailKeyFor } from '../../signing/thumbnails.ts';
import { signUploadPolicy } from '../../signing/upload-policy.ts';
import type { Storage } from '../../storage/storage.ts';
import { orUnavailable } from '../../storage/storage-errors.ts';
import type { UploadsStore } from '../../storage/uploads-store.ts';
import type { UsageBook } from '../../people/usage.ts';
import {
  hasThumbnail,
  PREVIEW_LINK_SECONDS,
  ThumbnailRequest,
  ThumbnailsRequest,
  type ThumbnailUrls,
  type UploadPolicy,
} from '../../../contract/api.ts';
import { requestOrigin } from '../request-origin.ts';
import { personOf, requireOwnKey } from '../upload-key.ts';
import { reserveQuota } from './usage.ts';

/** The thumbnail's key, for a key of one's own image (404 for another person's, 400 for other types). */
function ownThumbnailKey(res: Parameters<typeof requireOwnKey>[0], key: string): string {
  const { contentType } = requireOwnKey(res, key);
  const thumbnail = thumbnailKeyFor(key);
  if (!thumbnail || !hasThumbnail({ type: contentType, size: 0 })) {
    throw new AppError('not_previewable', 'Only PNG, JPEG, WebP and GIF images have thumbnails.');
  }
  return thumbnail;
}

/** Deletes a file's thumbnail, if it has one (S3's DeleteObject of a missing key succeeds). */
export async function deleteThumbnail(storage: Storage, uploadKey: string): Promise<void> {
  const key = thumbnailKeyFor(uploadKey);
  if (key) await orUnavailable(storage.client.send(new DeleteObjectCommand({ Bucket: storage.bucket, Key: key })));
}

export function thumbnailRoutes(router: Router, config: Config, storage: Storage, store: UploadsStore, usage: UsageBook): void {
  // A policy for the browser to post the thumbnail it drew straight to storage: exact key (derived
  // from the file's), exact size (64 KiB at most), WebP or JPEG only; no image bytes pass through here.
  router.post('/files/:key/thumbnail', async (req, res) => {
    const thumbnailKey = ownThumbnailKey(res, req.params.key);
    const { size, type } = ThumbnailRequest.parse(req.body);
    // In every mode, not only with accounts: a thumbnail is for a file that exists.
    await store.assertExists(req.params.key);
    // With a quota, thumbnails count like files: a policy outlives a delete of its file by minutes, and
    // upload → thumbnail policy → delete → post stored 64 KiB uncounted each time.
    await reserveQuota(usage, config, { key: thumbnailKey, size }, Date.now() + PREVIEW_LINK_SECONDS * 1000, personOf(res).space);
    const policy: UploadPolicy = await orUnavailable(
      signUploadPolicy(storage.signerFor(requestOrigin(req)), {
        bucket: storage.bucket,
        key: thumbnailKey,
        filename: type === 'image/webp' ? 'thumbnail.webp' : 'thumbnail.jpg',
        contentType: type,
        size,
        expiresSeconds: PREVIEW_LINK_SECONDS,
      }),
    );
    res.status(201).json(policy);
  });

  // Inline GETs of the thumbnails of the rows a page shows, in one call, signed without a storage
  // request each: a missing thumbnail is storage's 404, and the page then shows none. The Content-Type
  // is the one the thumbnail policy pinned (WebP or JPEG), so nothing else can be served inline.
  router.post('/thumbnails', async (req, res) => {
    const { keys } = ThumbnailsRequest.parse(req.body);
    const signer = storage.signerFor(requestOrigin(req));
    const urls: ThumbnailUrls['urls'] = {};
    for (const key of new Set(keys)) {
      const thumbnailKey = ownThumbnailKey(res, key);
      urls[key] = await orUnavailable(
        signer.presignGetObject({
          bucket: storage.bucket,
          key: thumbnailKey,
          expiresIn: PREVIEW_LINK_SECONDS,
          response: { contentDisposition: 'inline' },
        }),
      );
    }
    res.json({ urls } satisfies ThumbnailUrls);
  });
}

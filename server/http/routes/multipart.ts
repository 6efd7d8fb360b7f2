import type { RequestHandler, Router } from 'express';
import type { Config } from '../../config/config.ts';
import { AppError } from '../../errors/app-error.ts';
import { servedContentType } from '../../signing/content-types.ts';
import { attachmentDisposition, sanitizeFilename } from '../../signing/filenames.ts';
import { newUploadKey, normalizeContentType } from '../../signing/object-keys.ts';
import { MultipartStore } from '../../storage/multipart-store.ts';
import type { Storage } from '../../storage/storage.ts';
import { storageUnavailable } from '../../storage/storage-errors.ts';
import { CompleteRequest, isTypeAccepted, MULTIPART_MAX_PARTS, MultipartRef, multipartPartSize, partCountOf, partLengthOf, PartUrlsRequest, StaleUploadsQuery, UploadRequest, type CompletedUpload, type MultipartUpload, type PartUrls, type StaleUploads, type UploadedPart, type UploadedParts, formatBytes } from '../../../contract/api.ts';
import { jsonBody } from '../json-body.ts';
import { requireUploadKey } from '../upload-key.ts';
import { requestOrigin } from '../request-origin.ts';

/** A CompleteRequest of 10,000 parts with the longest ETags it allows is ~2.3 MB; with S3's (34 characters), ~0.7 MB. */
const COMPLETE_BODY_MAX_BYTES = MULTIPART_MAX_PARTS * 256;
/** Where the API router sees a Complete: its body is read here, after sign-in, not with the others. */
const COMPLETE_PATH = '/multipart-uploads/complete';
/** Whether an API path reaches the Complete route: Express matches paths in any case and with a trailing slash. */
export const isCompletePath = (path: string) => path.toLowerCase().replace(/\/$/, '') === COMPLETE_PATH;

/** Part URLs live at most this long; the browser asks for fresh ones when they expire. */
const PART_URL_MAX_SECONDS = 3600;

const unquote = (etag: string) => etag.replace(/"/g, '');

/**
 * Multipart uploads for big files: the server creates the upload (key and metadata decided here, as
 * for a POST), signs UploadPart URLs in batches, lists the parts storage has (to resume), completes
 * and aborts. The bytes go from the browser to S3; S3 ties each upload id to its key.
 */
/** `costlyRead` limits reads that cost storage a request per item (the stale uploads' listing pages), as signing is limited. */
export function multipartRoutes(router: Router, config: Config, storage: Storage, costlyRead: RequestHandler): void {
  const { maxBytes } = config.uploads;
  const partUrlSeconds = Math.min(config.uploads.expiresSeconds, PART_URL_MAX_SECONDS);
  const store = new MultipartStore(storage);

  router.post('/multipart-uploads', async (req, res) => {
    const request = UploadRequest.parse(req.body);
    const contentType = normalizeContentType(request.type || 'application/octet-stream');
    if (!contentType) throw new AppError('invalid_request', 'type must be a content type such as image/png.');
    if (!isTypeAccepted(contentType, config.uploads)) {
      throw new AppError('unsupported_type', `Files of type ${contentType} are not accepted here.`);
    }
    if (request.size > maxBytes) {
      throw new AppError('file_too_large', `This file is too large: the limit is ${formatBytes(maxBytes)} per file.`);
    }
    if (request.size < 1) throw new AppError('invalid_request', 'An empty file needs no multipart upload.');
    const filename = sanitizeFilename(request.name);
    const key = newUploadKey(filename, contentType);
    const uploadId = await store.create({
      key,
      contentType: servedContentType(contentType),
      contentDisposition: attachmentDisposition(filename),
      originalName: encodeURIComponent(filename),
    });
    const partSize = multipartPartSize(request.size, config.uploads.multipartPartBytes);
    const answer: MultipartUpload = { key, uploadId, partSize, partCount: partCountOf(request.size, partSize) };
    res.status(201).json(answer);
  });

  // Each URL takes a body of exactly its part's length, so that an upload holds no more than its file
  // (at most MAX_UPLOAD_BYTES), whatever part numbers or bodies a client tries. The embedded store
  // checks no signatures, so there this holds only for clients that play fair.
  router.post('/multipart-uploads/sign', async (req, res) => {
    const { key, uploadId, size, partSize, partNumbers } = PartUrlsRequest.parse(req.body);
    requireUploadKey(key);
    if (size > maxBytes) {
      throw new AppError('file_too_large', `This file is too large: the limit is ${formatBytes(maxBytes)} per file.`);
    }
    const partCount = partCountOf(size, partSize);
    if (partCount > MULTIPART_MAX_PARTS) {
      throw new AppError('invalid_request', `Parts of ${partSize} bytes would cut a file of ${size} bytes into more than ${MULTIPART_MAX_PARTS} parts.`);
    }
    const unique = [...new Set(partNumbers)];
    const past = unique.find((partNumber) => partNumber > partCount);
    if (past !== undefined) {
      throw new AppError('invalid_request', `A file of ${size} bytes has ${partCount} parts of ${partSize} bytes: there is no part ${past}.`);
    }
    const signer = storage.signerFor(requestOrigin(req));
    const expiresAt = new Date(Date.now() + partUrlSeconds * 1000);
    const urls = await Promise.all(
      unique.map(async (partNumber) => ({
        partNumber,
        url: await signer.presignUploadPart({
          bucket: storage.bucket,
          key,
          uploadId,
          partNumber,
          contentLength: partLengthOf(size, partSize, partNumber),
          expiresIn: partUrlSeconds,
        }),
      })),
    ).catch((err) => {
      throw storageUnavailable(err); // signing fails only when credentials cannot be resolved
    });
    const answer: PartUrls = { urls, expiresAt: expiresAt.toISOString() };
    res.json(answer);
  });

  router.get('/multipart-uploads/parts', async (req, res) => {
    const { key, uploadId } = MultipartRef.parse(req.query);
    requireUploadKey(key);
    const answer: UploadedParts = { parts: await store.listParts(key, uploadId) };
    res.json(answer);
  });

  router.post(COMPLETE_PATH, jsonBody(COMPLETE_BODY_MAX_BYTES), async (req, res) => {
    const { key, uploadId, parts } = CompleteRequest.parse(req.body);
    requireUploadKey(key);
    for (let i = 1; i < parts.length; i++) {
      if (parts[i]!.partNumber <= parts[i - 1]!.partNumber) {
        throw new AppError('invalid_request', 'parts must be in ascending order of partNumber, each once.');
      }
    }
    let listed: UploadedPart[];
    try {
      listed = await store.listParts(key, uploadId);
    } catch (err) {
      // Asked again after storage completed it (the answer was lost, or the join outlasted the
      // browser's wait): the upload id is gone and its object is there.
      const completedSize = err instanceof AppError && err.code === 'not_found' ? await store.objectSize(key) : undefined;
      if (completedSize === undefined) throw err;
      const answer: CompletedUpload = { key, size: completedSize };
      res.json(answer);
      return;
    }
    // What storage really has decides the size: the limit holds whatever the browser declared.
    const stored = new Map(listed.map((p) => [p.partNumber, p]));
    let size = 0;
    for (const part of parts) {
      const have = stored.get(part.partNumber);
      if (!have || unquote(have.etag) !== unquote(part.etag)) {
        throw new AppError('invalid_request', `Part ${part.partNumber} is missing or differs from what storage has.`);
      }
      size += have.size;
    }
    if (size > maxBytes) {
      await store.abort(key, uploadId).catch(() => {});
      throw new AppError('file_too_large', `This file is too large: the limit is ${formatBytes(maxBytes)} per file.`);
    }
    await store.complete(key, uploadId, parts, size);
    const answer: CompletedUpload = { key, size };
    res.json(answer);
  });

  router.get('/multipart-uploads', costlyRead, async (req, res) => {
    const { olderThanSeconds } = StaleUploadsQuery.parse(req.query);
    const answer: StaleUploads = { uploads: await store.listStale(new Date(Date.now() - olderThanSeconds * 1000)) };
    res.json(answer);
  });

  router.delete('/multipart-uploads/:key', async (req, res) => {
    const { key, uploadId } = MultipartRef.parse({ key: req.params.key, uploadId: req.query.uploadId });
    requireUploadKey(key);
    await store.abort(key, uploadId);
    res.status(204).end();
  });
}

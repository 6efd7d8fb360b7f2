import type { RequestHandler, Response, Router } from 'express';
import type { Config, StorageConfig } from '../../config/config.ts';
import { AppError } from '../../errors/app-error.ts';
import type { InstallSecret } from '../../secrets/install-secret.ts';
import { attachmentDisposition } from '../../signing/filenames.ts';
import { acceptUpload, fileTooLarge } from '../../signing/upload-rules.ts';
import { signUploadToken, UPLOAD_TOKEN_PURPOSE, verifyUploadToken, type UploadGrant } from '../../signing/upload-token.ts';
import type { UsageBook } from '../../people/usage.ts';
import { MultipartStore, uploadNotFound } from '../../storage/multipart-store.ts';
import type { Storage } from '../../storage/storage.ts';
import { orUnavailable } from '../../storage/storage-errors.ts';
import {
  CompleteRequest,
  formatBytes,
  MULTIPART_MAX_PARTS,
  MultipartRef,
  PART_CHECKS_HEADER,
  PartChecksHeader,
  multipartPartSize,
  partCountOf,
  partLengthOf,
  PartUrlsRequest,
  StaleUploadsQuery,
  type CompletedUpload,
  type MultipartUpload,
  type PartCheck,
  type PartUrls,
  type StaleUploads,
  type UploadedPart,
  type UploadedParts,
} from '../../../contract/api.ts';
import { jsonBody } from '../json-body.ts';
import { personOf, requireOwnKey } from '../upload-key.ts';
import { requestOrigin } from '../request-origin.ts';
import { reserveQuota } from './usage.ts';
import { MULTIPART_RESERVATION_MS } from '../../people/usage.ts';

/** A CompleteRequest of 10,000 parts with the longest ETags it allows is ~2.3 MB; with S3's (34 characters), ~0.7 MB. Plus the token. */
const COMPLETE_BODY_MAX_BYTES = MULTIPART_MAX_PARTS * 256 + 8192;
const COMPLETE_PATH = '/multipart-uploads/complete';

/** Part URLs live at most this long; the browser asks for fresh ones when they expire. */
const PART_URL_MAX_SECONDS = 3600;

const unquote = (etag: string) => etag.replace(/"/g, '');

/** 400 for a part number past the end of the upload's file. */
function requireParts(grant: UploadGrant, partNumbers: number[]): void {
  const partCount = partCountOf(grant.size, grant.partSize);
  const past = partNumbers.find((partNumber) => partNumber > partCount);
  if (past !== undefined) {
    throw new AppError(
      'invalid_request',
      `A file of ${grant.size} bytes has ${partCount} parts of ${grant.partSize} bytes: there is no part ${past}.`,
    );
  }
}

/** A key (or a token's key) in the person's own space; another person's answers as a gone upload does. */
function requireOwnUpload(res: Response, key: string): void {
  try {
    requireOwnKey(res, key);
  } catch (err) {
    throw err instanceof AppError && err.code === 'not_found' ? uploadNotFound() : err;
  }
}

/**
 * Multipart uploads for big files: the server creates the upload (key and metadata decided here, as
 * for a POST) and hands back an upload token binding key, upload id, size and part size; with it, it
 * signs UploadPart URLs in batches and completes. It lists the parts storage has (to resume) and
 * aborts. The bytes go from the browser to S3; S3 ties each upload id to its key.
 *
 * `complete` is registered apart, before the API's small-body parser: a Complete lists up to 10,000
 * parts, so its body has its own limit, read only after `guards` (sign-in, rate limit) let it in.
 * `costlyRead` limits reads that cost storage a request per item (the stale uploads' listing pages), as signing is limited.
 */

/**
 * How this upload's parts are checked. Other stores could check CRC32 too, but an S3 presigned URL
 * must sign the x-amz-checksum header's value, which is known only once the part is read: theirs is
 * MD5 (the ETag, or Content-MD5), which needs no signing. A page that does not list `answered-md5`
 * (loaded before it existed) gets Content-MD5, which every page knows.
 */
function partCheckFor(storage: StorageConfig, pageKnows: readonly PartCheck[] = []): PartCheck {
  if (storage.mode === 'embedded') return 'answered-crc32';
  return storage.partCheck === 'answered-md5' && pageKnows.includes('answered-md5') ? 'answered-md5' : 'content-md5';
}

export function multipartRoutes(config: Config, storage: Storage, installSecret: InstallSecret, usage: UsageBook) {
  const { maxBytes } = config.uploads;
  const partUrlSeconds = Math.min(config.uploads.expiresSeconds, PART_URL_MAX_SECONDS);
  const store = new MultipartStore(storage);
  const tokenKey = () => installSecret.key(UPLOAD_TOKEN_PURPOSE);
  /** The grant of a request's token; 413 when the limit has been lowered below its size since. */
  const grantOf = async (token: string) => {
    const grant = verifyUploadToken(await tokenKey(), token);
    if (grant.size > maxBytes) throw fileTooLarge(maxBytes);
    return grant;
  };

  return {
    complete(router: Router, guards: RequestHandler[]): void {
      router.post(COMPLETE_PATH, ...guards, jsonBody(COMPLETE_BODY_MAX_BYTES), async (req, res) => {
        const { uploadToken, parts } = CompleteRequest.parse(req.body);
        const grant = await grantOf(uploadToken);
        const { key, uploadId } = grant;
        requireOwnUpload(res, key);
        for (let i = 1; i < parts.length; i++) {
          if (parts[i]!.partNumber <= parts[i - 1]!.partNumber) {
            throw new AppError('invalid_request', 'parts must be in ascending order of partNumber, each once.');
          }
        }
        requireParts(
          grant,
          parts.map((part) => part.partNumber),
        );
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
        // What storage really has decides the size: it may not exceed what the upload was created for.
        const stored = new Map(listed.map((p) => [p.partNumber, p]));
        let size = 0;
        for (const part of parts) {
          const have = stored.get(part.partNumber);
          if (!have || unquote(have.etag) !== unquote(part.etag)) {
            throw new AppError('invalid_request', `Part ${part.partNumber} is missing or differs from what storage has.`);
          }
          size += have.size;
        }
        if (size > grant.size || size > maxBytes) {
          await store.abort(key, uploadId).catch(() => {});
          if (size > maxBytes) throw fileTooLarge(maxBytes);
          throw new AppError(
            'file_too_large',
            `These parts hold ${formatBytes(size)}, more than the ${formatBytes(grant.size)} this upload was created for.`,
          );
        }
        // And exactly the file: every part of its planned length (a part cut short by an interrupted
        // PUT may still list its earlier ETag), so a Complete never lands a shorter file.
        for (const part of parts) {
          const expected = partLengthOf(grant.size, grant.partSize, part.partNumber);
          const have = stored.get(part.partNumber)!.size;
          if (have !== expected) {
            throw new AppError('invalid_request', `Part ${part.partNumber} holds ${have} bytes, not ${expected}: send it again.`);
          }
        }
        if (size !== grant.size) {
          throw new AppError(
            'invalid_request',
            `These parts hold ${formatBytes(size)}, not the ${formatBytes(grant.size)} of this upload.`,
          );
        }
        await store.complete(key, uploadId, parts, size);
        const answer: CompletedUpload = { key, size };
        res.json(answer);
      });
    },

    routes(router: Router, costlyRead: RequestHandler): void {
      router.post('/multipart-uploads', async (req, res) => {
        const listed = req.get(PART_CHECKS_HEADER);
        const partChecks = listed === undefined ? [] : PartChecksHeader.parse(listed);
        const upload = acceptUpload(req.body, config.uploads, personOf(res).space);
        if (upload.size < 1) throw new AppError('invalid_request', 'An empty file needs no multipart upload.');
        const secret = await tokenKey(); // before creating: an upload nobody can continue is litter
        await reserveQuota(usage, config, upload, Date.now() + MULTIPART_RESERVATION_MS);
        const uploadId = await store.create({
          key: upload.key,
          contentType: upload.storedType,
          contentDisposition: attachmentDisposition(upload.filename),
          originalName: encodeURIComponent(upload.filename),
        });
        const partSize = multipartPartSize(upload.size, config.uploads.multipartPartBytes);
        const uploadToken = signUploadToken(secret, { key: upload.key, uploadId, size: upload.size, partSize });
        const answer: MultipartUpload = {
          key: upload.key,
          uploadId,
          partSize,
          partCount: partCountOf(upload.size, partSize),
          partCheck: partCheckFor(config.storage, partChecks),
          uploadToken,
        };
        res.status(201).json(answer);
      });

      // Each URL takes a body of exactly its part's length, and only the token's parts are signed, so an
      // upload holds no more than its declared size (at most MAX_UPLOAD_BYTES), whatever a client tries.
      router.post('/multipart-uploads/sign', async (req, res) => {
        const { uploadToken, partNumbers } = PartUrlsRequest.parse(req.body);
        const { key, uploadId, size, partSize } = await grantOf(uploadToken);
        requireOwnUpload(res, key);
        const unique = [...new Set(partNumbers)];
        requireParts({ key, uploadId, size, partSize }, unique);
        const signer = storage.signerFor(requestOrigin(req));
        const expiresAt = new Date(Date.now() + partUrlSeconds * 1000);
        // Signing fails only when credentials cannot be resolved.
        const urls = await orUnavailable(
          Promise.all(
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
          ),
        );
        const answer: PartUrls = { urls, expiresAt: expiresAt.toISOString() };
        res.json(answer);
      });

      router.get('/multipart-uploads/parts', async (req, res) => {
        const { key, uploadId } = MultipartRef.parse(req.query);
        requireOwnUpload(res, key);
        const answer: UploadedParts = { parts: await store.listParts(key, uploadId) };
        res.json(answer);
      });

      router.get('/multipart-uploads', costlyRead, async (req, res) => {
        const { olderThanSeconds } = StaleUploadsQuery.parse(req.query);
        const answer: StaleUploads = {
          uploads: await store.listStale(new Date(Date.now() - olderThanSeconds * 1000), personOf(res).space),
        };
        res.json(answer);
      });

      router.delete('/multipart-uploads/:key', async (req, res) => {
        const { key, uploadId } = MultipartRef.parse({ key: req.params.key, uploadId: req.query.uploadId });
        requireOwnUpload(res, key);
        await store.abort(key, uploadId);
        res.status(204).end();
      });
    },
  };
}

import type { Router } from 'express';
import type { Config } from '../../config/config.ts';
import { AppError } from '../../errors/app-error.ts';
import { servedContentType } from '../../signing/content-types.ts';
import { sanitizeFilename } from '../../signing/filenames.ts';
import { newUploadKey, normalizeContentType } from '../../signing/object-keys.ts';
import { signUploadPolicy } from '../../signing/upload-policy.ts';
import type { Storage } from '../../storage/storage.ts';
import { storageUnavailable } from '../../storage/storage-errors.ts';
import { isTypeAccepted, UploadRequest, type UploadPolicy, formatBytes } from '../../../contract/api.ts';
import { requestOrigin } from '../request-origin.ts';

export function uploadRoutes(router: Router, config: Config, storage: Storage): void {
  const { maxBytes, expiresSeconds } = config.uploads;

  router.post('/uploads', async (req, res) => {
    const request = UploadRequest.parse(req.body);
    const contentType = normalizeContentType(request.type || 'application/octet-stream');
    if (!contentType) {
      throw new AppError('invalid_request', 'type must be a content type such as image/png.');
    }
    if (!isTypeAccepted(contentType, config.uploads)) {
      throw new AppError('unsupported_type', `Files of type ${contentType} are not accepted here.`);
    }
    if (request.size > maxBytes) {
      throw new AppError('file_too_large', `This file is too large: the limit is ${formatBytes(maxBytes)} per file.`);
    }
    const filename = sanitizeFilename(request.name);
    const policy: UploadPolicy = await signUploadPolicy(storage.signerFor(requestOrigin(req)), {
      bucket: storage.bucket,
      // The key keeps the declared type (the listing shows it); storage keeps a safe one.
      key: newUploadKey(filename, contentType),
      filename,
      contentType: servedContentType(contentType),
      size: request.size,
      expiresSeconds,
    }).catch((err) => {
      throw storageUnavailable(err); // signing fails only when credentials cannot be resolved
    });
    res.status(201).json(policy);
  });
}

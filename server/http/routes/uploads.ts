import type { Router } from 'express';
import type { Config } from '../../config/config.ts';
import { acceptUpload } from '../../signing/upload-rules.ts';
import { signUploadPolicy } from '../../signing/upload-policy.ts';
import type { Storage } from '../../storage/storage.ts';
import { orUnavailable } from '../../storage/storage-errors.ts';
import type { UsageBook } from '../../people/usage.ts';
import type { UploadPolicy } from '../../../contract/api.ts';
import { requestOrigin } from '../request-origin.ts';
import { personOf } from '../upload-key.ts';
import { reserveQuota } from './usage.ts';

export function uploadRoutes(router: Router, config: Config, storage: Storage, usage: UsageBook): void {
  router.post('/uploads', async (req, res) => {
    const upload = acceptUpload(req.body, config.uploads, personOf(res).space);
    await reserveQuota(usage, config, upload, Date.now() + config.uploads.expiresSeconds * 1000);
    // Signing fails only when credentials cannot be resolved.
    const policy: UploadPolicy = await orUnavailable(
      signUploadPolicy(storage.signerFor(requestOrigin(req)), {
        bucket: storage.bucket,
        key: upload.key,
        filename: upload.filename,
        contentType: upload.storedType,
        size: upload.size,
        expiresSeconds: config.uploads.expiresSeconds,
      }),
    );
    res.status(201).json(policy);
  });
}

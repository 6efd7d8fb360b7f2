import type { Router } from 'express';
import type { Config } from '../../config/config.ts';
import { signDownloadLink } from '../../signing/download-links.ts';
import type { ShareService } from '../../shares/share-service.ts';
import type { Storage } from '../../storage/storage.ts';
import { storageUnavailable } from '../../storage/storage-errors.ts';
import type { UploadsStore } from '../../storage/uploads-store.ts';
import { FileListQuery, LinkRequest, type DownloadLink, type FilePage } from '../../../contract/api.ts';
import { personOf, requireOwnKey } from '../upload-key.ts';
import { requestOrigin } from '../request-origin.ts';
import type { UsageBook } from '../../people/usage.ts';
import { releaseQuota } from './usage.ts';
import { ownerOfSpace } from '../../people/usage.ts';
import { audit } from '../audit.ts';

export function fileRoutes(router: Router, config: Config, storage: Storage, store: UploadsStore, shares: ShareService, usage: UsageBook): void {
  router.get('/files', async (req, res) => {
    const query = FileListQuery.parse(req.query);
    const page: FilePage = await store.list({ ...query, space: personOf(res).space });
    res.json(page);
  });

  router.delete('/files/:key', async (req, res) => {
    const parts = requireOwnKey(res, req.params.key);
    // Its share links go first: if deleting the file then fails, the links are gone already, as the
    // owner asked for the file to stop being shared.
    const links = await shares.deleteForFile(req.params.key);
    const size = await store.delete(req.params.key);
    audit(res, 'file.delete', { file: req.params.key, owner: ownerOfSpace(parts.space).id, shareLinks: links });
    await releaseQuota(usage, config, res, req.params.key, size);
    res.status(204).end();
  });

  router.post('/files/:key/link', async (req, res) => {
    const { name, contentType } = requireOwnKey(res, req.params.key);
    const { expiresIn } = LinkRequest.parse(req.body);
    // With accounts (many people), HeadObject first: a missing file of one's own answers 404 exactly
    // as another person's key does, so no answer tells whether a key exists in someone else's space.
    // With one person there is no one else's space to probe, and signing needs no storage round trip
    // (a link to a missing object gets S3's own 404 NoSuchKey when it is used).
    if (config.oidc) await store.assertExists(req.params.key);
    const link: DownloadLink = await signDownloadLink(storage.signerFor(requestOrigin(req)), {
      bucket: storage.bucket,
      key: req.params.key,
      filename: name,
      contentType,
      expiresSeconds: expiresIn,
    }).catch((err) => {
      throw storageUnavailable(err); // signing fails only when credentials cannot be resolved
    });
    res.status(201).json(link);
  });
}

import type { Router } from 'express';
import type { Config } from '../../config/config.ts';
import { signDownloadLink } from '../../signing/download-links.ts';
import { signPreviewLink } from '../../signing/preview-links.ts';
import { AppError } from '../../errors/app-error.ts';
import type { ShareService } from '../../shares/share-service.ts';
import type { Storage } from '../../storage/storage.ts';
import { storageUnavailable } from '../../storage/storage-errors.ts';
import type { UploadsStore } from '../../storage/uploads-store.ts';
import {
  FileListQuery,
  LinkRequest,
  PREVIEW_LINK_SECONDS,
  previewKindOf,
  type DownloadLink,
  type FilePage,
  type PreviewLink,
} from '../../../contract/api.ts';
import { personOf, requireOwnKey } from '../upload-key.ts';
import { requestOrigin } from '../request-origin.ts';
import type { UsageBook } from '../../people/usage.ts';
import { releaseQuota } from './usage.ts';
import { deleteThumbnail } from './thumbnails.ts';
import { ownerOfSpace } from '../../people/usage.ts';
import { audit } from '../audit.ts';

export function fileRoutes(
  router: Router,
  config: Config,
  storage: Storage,
  store: UploadsStore,
  shares: ShareService,
  usage: UsageBook,
): void {
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
    // The thumbnail before the file: if that fails, the file is still there to delete again.
    await deleteThumbnail(storage, req.params.key);
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

  // An inline GET for the owner's own list, only for INLINE_PREVIEW_TYPES (never HTML, SVG, XML): the
  // type comes from the key the server chose, so a client cannot ask for another one.
  router.post('/files/:key/preview', async (req, res) => {
    const { name, contentType } = requireOwnKey(res, req.params.key);
    const kind = previewKindOf(contentType);
    if (kind === undefined) throw new AppError('not_previewable', 'This type of file is never shown in the page; download it instead.');
    if (config.oidc) await store.assertExists(req.params.key); // as for /link: no probing of others' keys
    const expiresAt = new Date(Date.now() + PREVIEW_LINK_SECONDS * 1000).toISOString();
    const url = await signPreviewLink(storage.signerFor(requestOrigin(req)), {
      bucket: storage.bucket,
      key: req.params.key,
      filename: name,
      contentType,
      expiresSeconds: PREVIEW_LINK_SECONDS,
    }).catch((err) => {
      throw storageUnavailable(err);
    });
    if (url === undefined) throw new AppError('not_previewable', 'This type of file is never shown in the page.');
    const link: PreviewLink = { url, expiresAt, kind };
    res.status(201).json(link);
  });
}

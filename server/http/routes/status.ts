import { Router } from 'express';
import type { Config } from '../../config/config.ts';
import type { Storage } from '../../storage/storage.ts';
import type { UploadsStore } from '../../storage/uploads-store.ts';
import type { Health, UploadSettings } from '../contract.ts';

export function statusRoutes(config: Config, storage: Storage, store: UploadsStore): Router {
  const router = Router();
  const settings: UploadSettings = {
    maxUploadBytes: config.uploads.maxBytes,
    multipartThresholdBytes: config.uploads.multipartThresholdBytes,
    multipartConcurrency: config.uploads.multipartConcurrency,
    multipartPartBytes: config.uploads.multipartPartBytes,
    allowedTypes: config.uploads.allowedTypes,
    deniedTypes: config.uploads.deniedTypes,
  };

  router.get('/settings', (_req, res) => {
    res.json(settings);
  });

  router.get('/health', async (req, res) => {
    const ping = await store.ping();
    if (!ping.reachable) req.log.warn({ err: ping.error }, 'storage unreachable');
    const health: Health = {
      status: ping.reachable ? 'ok' : 'unavailable',
      storage: { reachable: ping.reachable, mode: storage.mode, ...(ping.reachable && { latencyMs: ping.latencyMs }) },
    };
    res.status(ping.reachable ? 200 : 503).json(health);
  });

  return router;
}

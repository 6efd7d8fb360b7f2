import type { Router } from 'express';
import type { Config } from '../../config/config.ts';
import type { Storage } from '../../storage/storage.ts';
import type { UploadsStore } from '../../storage/uploads-store.ts';
import type { Health, UploadSettings } from '../../../contract/api.ts';
import type { SharedLimits } from '../shared-limits.ts';

export function statusRoutes(router: Router, config: Config, storage: Storage, store: UploadsStore, limits?: SharedLimits): void {
  const settings: UploadSettings = {
    maxUploadBytes: config.uploads.maxBytes,
    multipartThresholdBytes: config.uploads.multipartThresholdBytes,
    multipartConcurrency: config.uploads.multipartConcurrency,
    allowedTypes: config.uploads.allowedTypes,
    deniedTypes: config.uploads.deniedTypes,
    retentionDays: config.retention.fileDays ?? null,
  };

  router.get('/settings', (_req, res) => {
    res.json(settings);
  });

  // /api/health is open to anyone and each check is a HeadBucket: requests at the same moment share
  // one check, and a good answer is reused for a second, so that no client can drive storage calls.
  // A failure is not reused: the page sees storage come back at the next check.
  let checking: ReturnType<UploadsStore['ping']> | undefined;
  let lastGood: { at: number; ping: Awaited<ReturnType<UploadsStore['ping']>> } | undefined;
  const checkStorage = () => {
    if (lastGood && Date.now() - lastGood.at < 1000) return Promise.resolve(lastGood.ping);
    checking ??= store
      .ping()
      .then((ping) => {
        if (ping.reachable) lastGood = { at: Date.now(), ping };
        return ping;
      })
      .finally(() => {
        checking = undefined;
      });
    return checking;
  };

  router.get('/health', async (req, res) => {
    const [ping, sharedState] = await Promise.all([checkStorage(), limits?.check()]);
    if (!ping.reachable) req.log.warn({ err: ping.error }, 'storage unreachable');
    const health: Health = {
      status: ping.reachable ? 'ok' : 'unavailable',
      storage: { reachable: ping.reachable, mode: storage.mode, ...(ping.reachable && { latencyMs: ping.latencyMs }) },
      // Redis away is no reason to take this instance out of a load balancer: it still answers (docs/scale-out.md).
      ...(sharedState && { sharedState }),
    };
    if (sharedState?.mode === 'redis' && !sharedState.reachable) req.log.warn('redis unreachable');
    res.status(ping.reachable ? 200 : 503).json(health);
  });
}

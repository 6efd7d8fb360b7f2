import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { Config } from './config/config.ts';
import { createApp } from './http/app.ts';
import { Metrics } from './metrics/metrics.ts';
import { putLifecycleRules } from './retention/lifecycle.ts';
import { RetentionSweeper } from './retention/sweeper.ts';
import { InstallSecret } from './secrets/install-secret.ts';
import { SharedRedis } from './shared/redis.ts';
import { openStorage, type Storage } from './storage/storage.ts';

export interface RunningPostbox {
  url: string;
  storage: Storage;
  installSecret: InstallSecret;
  metrics: Metrics;
  /** With REDIS_URL: the client every limit shares. */
  redis?: SharedRedis;
  close(): Promise<void>;
}

/** How often the embedded store is swept for files and uploads past retention. */
const SWEEP_INTERVAL_MS = 3600_000;

/**
 * Retention (FILE_RETENTION_DAYS, ABORT_INCOMPLETE_UPLOADS_DAYS) as the bucket's lifecycle rules:
 * the embedded store has no lifecycle engine, so Postbox sweeps it on the same rules; an external
 * bucket gets the rules put on it when S3_MANAGE_LIFECYCLE says Postbox manages it (else its
 * operator puts them: server/cli/lifecycle.ts prints them). A failure is logged, never fatal.
 */
async function startRetention(config: Config, storage: Storage, metrics: Metrics, logger: Logger): Promise<RetentionSweeper | undefined> {
  const settings = { fileDays: config.retention.fileDays, abortIncompleteUploadsDays: config.retention.abortIncompleteUploadsDays };
  if (storage.mode === 'embedded') {
    const sweeper = new RetentionSweeper({
      client: storage.client,
      bucket: storage.bucket,
      settings,
      onSwept: ({ deletedFiles, abortedUploads }) => {
        metrics.retentionSwept(deletedFiles, abortedUploads);
        if (deletedFiles || abortedUploads) logger.info({ deletedFiles, abortedUploads }, 'retention: swept the embedded store');
      },
      onError: (err) => logger.warn({ err }, 'retention: sweeping the embedded store failed; the next run tries again'),
    });
    sweeper.start(SWEEP_INTERVAL_MS);
    return sweeper;
  }
  if (!config.retention.manageBucketLifecycle) return undefined;
  try {
    await putLifecycleRules(storage.client, storage.bucket, settings);
    logger.info(settings, 'retention: lifecycle rules put on the bucket');
  } catch (err) {
    logger.error({ err }, 'retention: could not put the lifecycle rules on the bucket (S3_MANAGE_LIFECYCLE); files are kept');
  }
  return undefined;
}

/** Opens storage, then serves the API and the SPA. Used by `main.ts` and by the integration tests. */
export async function startPostbox(config: Config, logger: Logger): Promise<RunningPostbox> {
  const storage = await openStorage(config);
  const installSecret = new InstallSecret(storage.client, storage.bucket);
  const metrics = new Metrics();
  const redis = config.redisUrl ? await SharedRedis.connect(config.redisUrl, logger) : undefined;
  const app = createApp({ config, storage, installSecret, logger, metrics, redis });
  const sweeper = await startRetention(config, storage, metrics, logger);
  const server = app.listen(config.port, config.host);
  let port: number;
  try {
    await once(server, 'listening');
    port = (server.address() as AddressInfo).port;
  } catch (err) {
    server.close();
    await sweeper?.stop();
    redis?.close();
    await storage.close();
    throw err;
  }
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;

  return {
    url: `http://${host}:${port}`,
    storage,
    installSecret,
    metrics,
    redis,
    async close() {
      await sweeper?.stop();
      // Stop accepting, let in-flight requests finish, then close the storage they use.
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      });
      redis?.close();
      await storage.close();
    },
  };
}

import { ConfigError, loadConfig } from './config/config.ts';
import { createLogger } from './logger.ts';
import { startPostbox } from './postbox.ts';

const SHUTDOWN_GRACE_MS = 30_000;

let config;
try {
  config = loadConfig(process.env);
} catch (err) {
  if (!(err instanceof ConfigError)) throw err;
  console.error(err.message);
  process.exit(1);
}

const logger = createLogger(config.logLevel, config.logFormat);
try {
  const postbox = await startPostbox(config, logger);
  const { storage } = postbox;
  logger.info(`Postbox is serving on ${postbox.url}`);
  logger.info(
    storage.mode === 'embedded'
      ? `Storage: embedded S3, served to browsers under ${postbox.url}/storage/, bucket "${storage.bucket}", data in ${config.storage.mode === 'embedded' ? config.storage.dataDir : ''} (for one machine, a LAN or trying things out; point S3_BUCKET at a real S3 for deployments)`
      : `Storage: bucket "${storage.bucket}" at ${storage.endpoint ?? `AWS S3 (${config.storage.region})`}`,
  );
  logger.info(
    postbox.redis
      ? `Limits and session revocations: shared through Redis (${postbox.redis.state})`
      : "Limits: in this instance's memory (for one instance; set REDIS_URL to share them between several)",
  );

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info(`${signal}: finishing in-flight requests, then stopping`);
    // An upload still streaming into the embedded store after this long is cut off, not waited for.
    setTimeout(() => {
      logger.error(`still busy after ${SHUTDOWN_GRACE_MS / 1000} s: stopping anyway`);
      process.exit(1);
    }, SHUTDOWN_GRACE_MS).unref();
    postbox.close().then(
      () => {
        logger.info('stopped cleanly');
        process.exit(0);
      },
      (err) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
} catch (err) {
  logger.fatal({ err }, (err as Error).message);
  process.exit(1);
}

import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { Config } from './config/config.ts';
import { createApp } from './http/app.ts';
import { InstallSecret } from './secrets/install-secret.ts';
import { SharedRedis } from './shared/redis.ts';
import { openStorage, type Storage } from './storage/storage.ts';

export interface RunningPostbox {
  url: string;
  storage: Storage;
  installSecret: InstallSecret;
  /** With REDIS_URL: the client every limit shares. */
  redis?: SharedRedis;
  close(): Promise<void>;
}

/** Opens storage, then serves the API and the SPA. Used by `main.ts` and by the integration tests. */
export async function startPostbox(config: Config, logger: Logger): Promise<RunningPostbox> {
  const storage = await openStorage(config);
  const installSecret = new InstallSecret(storage.client, storage.bucket);
  const redis = config.redisUrl ? await SharedRedis.connect(config.redisUrl, logger) : undefined;
  const app = createApp({ config, storage, installSecret, logger, redis });
  const server = app.listen(config.port, config.host);
  let port: number;
  try {
    await once(server, 'listening');
    port = (server.address() as AddressInfo).port;
  } catch (err) {
    server.close();
    redis?.close();
    await storage.close();
    throw err;
  }
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;

  return {
    url: `http://${host}:${port}`,
    storage,
    installSecret,
    redis,
    async close() {
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

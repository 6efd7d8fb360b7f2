import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { Config } from './config/config.ts';
import { createApp } from './http/app.ts';
import { openStorage, type Storage } from './storage/storage.ts';
import { storageOrigin } from './storage/storage-origin.ts';

export interface RunningPostbox {
  url: string;
  storage: Storage;
  close(): Promise<void>;
}

/** Opens storage, then serves the API and the SPA. Used by `main.ts` and by the integration tests. */
export async function startPostbox(config: Config, logger: Logger): Promise<RunningPostbox> {
  const storage = await openStorage(config);
  const app = createApp({ config, storage, logger, storageOrigin: await storageOrigin(storage.signingClient, storage.bucket) });
  const server = app.listen(config.port, config.host);
  try {
    await once(server, 'listening');
  } catch (err) {
    await storage.close();
    throw err;
  }
  const { port } = server.address() as AddressInfo;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;

  return {
    url: `http://${host}:${port}`,
    storage,
    async close() {
      // Stop accepting, let in-flight requests finish, then close the storage they use.
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      });
      await storage.close();
    },
  };
}

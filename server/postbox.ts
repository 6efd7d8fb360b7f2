import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { PutBucketCorsCommand } from '@aws-sdk/client-s3';
import type { Logger } from 'pino';
import type { Config } from './config/config.ts';
import { createApp } from './http/app.ts';
import { InstallSecret } from './secrets/install-secret.ts';
import { corsRule } from './storage/cors.ts';
import { openStorage, type Storage } from './storage/storage.ts';
import { storageOrigin } from './storage/storage-origin.ts';

const isPortZero = (origin: string) => origin.endsWith(':0');

export interface RunningPostbox {
  url: string;
  storage: Storage;
  installSecret: InstallSecret;
  close(): Promise<void>;
}

/** Opens storage, then serves the API and the SPA. Used by `main.ts` and by the integration tests. */
export async function startPostbox(config: Config, logger: Logger): Promise<RunningPostbox> {
  const storage = await openStorage(config);
  const installSecret = new InstallSecret(storage.client, storage.bucket);
  const app = createApp({ config, storage, installSecret, logger, storageOrigin: await storageOrigin(storage.signingClient, storage.bucket) });
  const server = app.listen(config.port, config.host);
  let port: number;
  try {
    await once(server, 'listening');
    port = (server.address() as AddressInfo).port;
    if (config.storage.mode === 'embedded' && config.storage.corsOrigins.some(isPortZero)) {
      // Listening on a free port: the embedded bucket lets exactly this port's page in, no other local one.
      const origins = config.storage.corsOrigins.map((origin) => (isPortZero(origin) ? `${origin.slice(0, -2)}:${port}` : origin));
      await storage.client.send(new PutBucketCorsCommand({ Bucket: storage.bucket, CORSConfiguration: { CORSRules: [corsRule(origins)] } }));
    }
  } catch (err) {
    server.close();
    await storage.close();
    throw err;
  }
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;

  return {
    url: `http://${host}:${port}`,
    storage,
    installSecret,
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

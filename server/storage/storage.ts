import type { S3Client } from '@aws-sdk/client-s3';
import type { Config } from '../config/config.ts';
import { EMBEDDED_CREDENTIALS, startEmbeddedS3 } from './embedded-s3.ts';
import { createS3Client } from './s3-client.ts';

export interface Storage {
  mode: 'embedded' | 'external';
  bucket: string;
  /** Where the server itself reaches S3 (undefined: the SDK's default AWS endpoint). */
  endpoint?: string;
  /** For the server's own calls (list, head, delete). */
  client: S3Client;
  /** For signing: its endpoint is the one browsers reach (S3_PUBLIC_ENDPOINT when set). */
  signingClient: S3Client;
  close(): Promise<void>;
}

/** Opens the configured storage: starts the embedded S3 when no bucket is configured, else connects to it. */
export async function openStorage(config: Config): Promise<Storage> {
  const { storage } = config;
  if (storage.mode === 'embedded') {
    const embedded = await startEmbeddedS3(storage);
    const client = createS3Client(
      { region: storage.region, endpoint: embedded.endpoint, forcePathStyle: true, credentials: EMBEDDED_CREDENTIALS },
      config.s3Client,
    );
    return {
      mode: 'embedded',
      bucket: storage.bucket,
      endpoint: embedded.endpoint,
      client,
      signingClient: client,
      async close() {
        client.destroy();
        await embedded.stop();
      },
    };
  }

  const target = { region: storage.region, endpoint: storage.endpoint, forcePathStyle: storage.forcePathStyle };
  const client = createS3Client(target, config.s3Client);
  const signingClient = storage.publicEndpoint
    ? createS3Client({ ...target, endpoint: storage.publicEndpoint }, config.s3Client)
    : client;
  return {
    mode: 'external',
    bucket: storage.bucket,
    endpoint: storage.endpoint,
    client,
    signingClient,
    async close() {
      client.destroy();
      if (signingClient !== client) signingClient.destroy();
    },
  };
}

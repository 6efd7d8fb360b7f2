import type { S3Client } from '@aws-sdk/client-s3';
import type { Config } from '../config/config.ts';
import { Signer } from '../signing/signer.ts';
import { EMBEDDED_CREDENTIALS, startEmbeddedS3 } from './embedded-s3.ts';
import { createS3Client, createSigningClient, type S3Target } from './s3-client.ts';

export interface Storage {
  mode: 'embedded' | 'external';
  bucket: string;
  /** Where the server itself reaches S3 (undefined: the SDK's default AWS endpoint). */
  endpoint?: string;
  /** For the server's own calls (list, head, delete). */
  client: S3Client;
  /** For signing: its endpoint is the one browsers reach (S3_PUBLIC_ENDPOINT when set). It sends nothing. */
  signingClient: S3Client;
  /** Signs with `signingClient`'s endpoint, region and credentials, resolved once (and again when they rotate). */
  signer: Signer;
  close(): Promise<void>;
}

/** Opens the configured storage: starts the embedded S3 when no bucket is configured, else connects to it. */
export async function openStorage(config: Config): Promise<Storage> {
  const { storage } = config;
  if (storage.mode === 'embedded') {
    const embedded = await startEmbeddedS3(storage);
    const target = { region: storage.region, endpoint: embedded.endpoint, forcePathStyle: true, credentials: EMBEDDED_CREDENTIALS };
    return connect('embedded', storage.bucket, embedded.endpoint, target, target, config, () => embedded.stop());
  }

  const target = { region: storage.region, endpoint: storage.endpoint, forcePathStyle: storage.forcePathStyle };
  const signingTarget = { ...target, endpoint: storage.publicEndpoint ?? storage.endpoint };
  return connect('external', storage.bucket, storage.endpoint, target, signingTarget, config, async () => {});
}

function connect(
  mode: Storage['mode'],
  bucket: string,
  endpoint: string | undefined,
  target: S3Target,
  signingTarget: S3Target,
  config: Config,
  stopStorage: () => Promise<void>,
): Storage {
  const client = createS3Client(target, config.s3Client);
  const signingClient = createSigningClient(signingTarget);
  return {
    mode,
    bucket,
    endpoint,
    client,
    signingClient,
    signer: warmSigner(signingClient, bucket),
    async close() {
      client.destroy();
      signingClient.destroy();
      await stopStorage();
    },
  };
}

/** Resolves endpoint, region and credentials in the background; if that fails, the first signing request reports it. */
function warmSigner(signingClient: S3Client, bucket: string): Signer {
  const signer = new Signer(signingClient);
  signer.warmUp(bucket).catch(() => {});
  return signer;
}

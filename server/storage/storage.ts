import type { IncomingMessage, ServerResponse } from 'node:http';
import type { S3Client } from '@aws-sdk/client-s3';
import type { Config } from '../config/config.ts';
import { AppError } from '../errors/app-error.ts';
import { Signer } from '../signing/signer.ts';
import { EMBEDDED_CREDENTIALS, startEmbeddedS3 } from './embedded-s3.ts';
import { createS3Client, createSigningClient } from './s3-client.ts';
import { OriginSigners, storageOrigin } from './storage-origin.ts';

export interface Storage {
  mode: 'embedded' | 'external';
  bucket: string;
  /** Where the server itself reaches S3 (undefined: the SDK's default AWS endpoint). */
  endpoint?: string;
  /** For the server's own calls (list, head, delete, share records). */
  client: S3Client;
  /**
   * The signer for URLs and policies a browser uses, given the origin its request came to (requestOrigin).
   * Embedded: signs for `<PUBLIC_URL, else that origin>/storage`, the app itself; undefined with no
   * PUBLIC_URL is a 400. External: the public endpoint's signer, whatever the origin.
   */
  signerFor(origin: string | undefined): Signer;
  /** The CSP source pages may post and connect to for storage: 'self' when embedded, else the public endpoint's origin. */
  cspSource: string;
  /** Embedded only: the store's request handler, which the app mounts at /storage. */
  handleStorageRequest?: (req: IncomingMessage, res: ServerResponse) => void;
  close(): Promise<void>;
}

/** Opens the configured storage: starts the embedded S3 when no bucket is configured, else connects to it. */
export async function openStorage(config: Config): Promise<Storage> {
  const { storage } = config;
  if (storage.mode === 'embedded') {
    const embedded = await startEmbeddedS3({ dataDir: storage.dataDir, port: 0, bucket: storage.bucket });
    const client = createS3Client(
      { region: storage.region, endpoint: embedded.endpoint, forcePathStyle: true, credentials: EMBEDDED_CREDENTIALS },
      config.s3Client,
    );
    const signers = new OriginSigners({
      bucket: storage.bucket,
      makeClient: (endpoint) =>
        createSigningClient({ region: storage.region, endpoint, forcePathStyle: true, credentials: EMBEDDED_CREDENTIALS }),
    });
    const { publicUrl } = config;
    if (publicUrl) signers.get(publicUrl);
    return {
      mode: 'embedded',
      bucket: storage.bucket,
      endpoint: embedded.endpoint,
      client,
      signerFor(origin) {
        const signFor = publicUrl ?? origin;
        if (!signFor) throw new AppError('invalid_request', 'The request does not say a valid host to sign for (set PUBLIC_URL).');
        return signers.get(signFor);
      },
      cspSource: "'self'",
      handleStorageRequest: embedded.handle,
      async close() {
        client.destroy();
        signers.close();
        await embedded.stop();
      },
    };
  }

  const target = { region: storage.region, endpoint: storage.endpoint, forcePathStyle: storage.forcePathStyle };
  const client = createS3Client(target, config.s3Client);
  const signingClient = createSigningClient({ ...target, endpoint: storage.publicEndpoint ?? storage.endpoint });
  const signer = new Signer(signingClient);
  // Resolves endpoint, region and credentials in the background; if that fails, the first signing request reports it.
  signer.warmUp(storage.bucket).catch(() => {});
  return {
    mode: 'external',
    bucket: storage.bucket,
    endpoint: storage.endpoint,
    client,
    signerFor: () => signer,
    cspSource: await storageOrigin(signingClient, storage.bucket),
    close() {
      client.destroy();
      signingClient.destroy();
      return Promise.resolve();
    },
  };
}

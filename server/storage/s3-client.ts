import { S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { HttpsProxyAgent } from 'https-proxy-agent';
import type { Config } from '../config/config.ts';

export interface S3Target {
  region: string;
  endpoint?: string;
  forcePathStyle: boolean;
  /** Fixed credentials (the embedded store); otherwise the SDK's default provider chain. */
  credentials?: { accessKeyId: string; secretAccessKey: string };
}

/** The client for the server's own S3 calls: the seed guide's settings (region, retries, proxy, timeouts). */
export function createS3Client(target: S3Target, settings: Config['s3Client']): S3Client {
  return new S3Client({
    region: target.region,
    endpoint: target.endpoint,
    forcePathStyle: target.forcePathStyle,
    credentials: target.credentials,
    maxAttempts: settings.maxAttempts,
    retryMode: settings.retryMode,
    requestHandler: new NodeHttpHandler({
      connectionTimeout: settings.timeoutMs,
      requestTimeout: settings.timeoutMs,
      throwOnRequestTimeout: true,
      httpsAgent: settings.proxy ? new HttpsProxyAgent(settings.proxy) : undefined,
    }),
  });
}

/**
 * The client the signer reads its endpoint, region and credentials from; it never sends a request.
 * Checksums only when an operation requires them: by default (WHEN_SUPPORTED) the SDK would sign
 * `x-amz-checksum-mode=ENABLED` into every GET link, which asks S3 for checksum headers only an SDK
 * validates (useless to a browser), and the CRC32 of an empty body into every PUT URL, which S3
 * would then hold the uploaded bytes to. With WHEN_REQUIRED, `getSignedUrl` on this client and the
 * signer produce the same URLs.
 */
export function createSigningClient(target: Omit<S3Target, 'credentials'> & { credentials?: S3ClientConfig['credentials'] }): S3Client {
  return new S3Client({
    region: target.region,
    endpoint: target.endpoint,
    forcePathStyle: target.forcePathStyle,
    credentials: target.credentials,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

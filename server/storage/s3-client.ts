import { S3Client } from '@aws-sdk/client-s3';
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

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import { EMBEDDED_CREDENTIALS, startEmbeddedS3 } from '../storage/embedded-s3.ts';
import { createS3Client } from '../storage/s3-client.ts';

export interface ThrowawayS3 {
  endpoint: string;
  /** Where it keeps its data (removed by stop). */
  dir: string;
  /** A client for it that fails fast: one attempt, 5 s. */
  client: S3Client;
  stop(): Promise<void>;
}

/** The embedded S3 on a free loopback port, its data in a temporary folder, for tests that need storage but not the app. */
export async function startThrowawayS3(bucket: string): Promise<ThrowawayS3> {
  const dir = await mkdtemp(path.join(tmpdir(), `postbox-${bucket}-`));
  const s3 = await startEmbeddedS3({ dataDir: dir, port: 0, bucket });
  const client = createS3Client(
    { region: 'us-east-1', endpoint: s3.endpoint, forcePathStyle: true, credentials: EMBEDDED_CREDENTIALS },
    { maxAttempts: 1, retryMode: 'standard', timeoutMs: 5000 },
  );
  return {
    endpoint: s3.endpoint,
    dir,
    client,
    async stop() {
      client.destroy();
      await s3.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

import { mkdir, rm } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import S3rver from 's3rver';
import { emulateMultipartApi } from './embedded-multipart.ts';
import { writeObjectsWhole } from './embedded-object-writes.ts';
import { enforcePostPolicies } from './embedded-post-policy.ts';

/** s3rver accepts these fixed credentials. It does not reject anonymous requests; see embedded-post-policy for POSTs. */
export const EMBEDDED_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

export interface EmbeddedS3 {
  /** Its own listener on 127.0.0.1, for the server's own S3 client: never given to browsers. */
  endpoint: string;
  /** The same store as a Node request handler, which the app mounts at /storage for browsers. */
  handle(req: IncomingMessage, res: ServerResponse): void;
  stop(): Promise<void>;
}

/**
 * Starts s3rver with the bucket in place; data survives restarts. Browsers reach it through the
 * app (`handle`, same origin: no CORS rule needed). The server's own calls keep a loopback listener
 * on `port` (0: a free one): they then work before the app listens (the install secret is read at
 * start) and never pass through the app's host checks, logs or limits, whatever HOST and PUBLIC_URL say.
 */
export async function startEmbeddedS3(options: { dataDir: string; port: number; bucket: string }): Promise<EmbeddedS3> {
  const directory = path.join(options.dataDir, 's3');
  const incomingDir = path.join(options.dataDir, 'incoming');
  await mkdir(directory, { recursive: true });
  await rm(incomingDir, { recursive: true, force: true }); // leftovers of a crash: never stored
  await mkdir(incomingDir, { recursive: true });
  const server = new S3rver({
    address: '127.0.0.1',
    port: options.port,
    directory,
    silent: true,
    // Buckets by path only: by default s3rver takes any host name but localhost for a bucket name
    // (virtual-hosted style), so a page opened as http://nas.lan:8080 would write to bucket "nas.lan".
    vhostBuckets: false,
    configureBuckets: [{ name: options.bucket, configs: [] }],
  });
  enforcePostPolicies(server, { secretAccessKey: EMBEDDED_CREDENTIALS.secretAccessKey, incomingDir });
  emulateMultipartApi(server, { directory });
  writeObjectsWhole(server, { incomingDir });
  let address;
  try {
    address = await server.run();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw new Error(`The embedded S3 cannot listen on 127.0.0.1:${options.port}: the port is in use.`, { cause: err });
    }
    throw err;
  }
  return {
    endpoint: `http://127.0.0.1:${address.port}`,
    // After the patches above: Koa composes its middleware when the handler is made.
    handle: server.callback(),
    stop: () => server.close(),
  };
}

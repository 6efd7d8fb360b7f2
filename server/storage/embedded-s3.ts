import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import S3rver from 's3rver';
import { corsConfigurationXml } from './cors.ts';
import { loopbackHosts, requireSignatures } from './embedded-auth.ts';
import { emulateMultipartApi } from './embedded-multipart.ts';
import { writeObjectsWhole } from './embedded-object-writes.ts';
import { checkKey } from './embedded-paths.ts';
import { enforcePostPolicies } from './embedded-post-policy.ts';
import { boundXmlBodies } from './embedded-xml.ts';

/** The embedded store's only credentials: every request must be signed with them (embedded-auth.ts), or be a form POST with a policy signed with them. */
export const EMBEDDED_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

export interface EmbeddedS3 {
  endpoint: string;
  stop(): Promise<void>;
}

/** Starts s3rver on 127.0.0.1 with the bucket (and its CORS rule) in place; data survives restarts. */
export async function startEmbeddedS3(options: {
  dataDir: string;
  port: number;
  bucket: string;
  corsOrigins: string[];
  /** The Host header values it answers (default: its own `127.0.0.1:<port>` and `localhost:<port>`). */
  isServedHost?: (host: string) => boolean;
}): Promise<EmbeddedS3> {
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
    vhostBuckets: false, // path-style only: a Host header never names a bucket
    configureBuckets: [{ name: options.bucket, configs: [corsConfigurationXml(options.corsOrigins)] }],
  });
  let port: number | undefined;
  requireSignatures(server, { credentials: EMBEDDED_CREDENTIALS, isServedHost: options.isServedHost ?? loopbackHosts(() => port) });
  boundXmlBodies(server, checkKey);
  enforcePostPolicies(server, { secretAccessKey: EMBEDDED_CREDENTIALS.secretAccessKey, incomingDir });
  emulateMultipartApi(server, { directory });
  writeObjectsWhole(server, { incomingDir });
  let address;
  try {
    address = await server.run();
    port = address.port;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw new Error(
        `The embedded S3 cannot listen on 127.0.0.1:${options.port}: the port is in use. Set EMBEDDED_S3_PORT to a free port (0 picks one).`,
        { cause: err },
      );
    }
    throw err;
  }
  return {
    endpoint: `http://127.0.0.1:${address.port}`,
    stop: () => server.close(),
  };
}

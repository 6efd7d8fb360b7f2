import { mkdir, rm } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import S3rver from 's3rver';
import { loopbackHosts, requireSignatures } from './embedded-auth.ts';
import { emulateMultipartApi } from './embedded-multipart.ts';
import { writeObjectsWhole } from './embedded-object-writes.ts';
import { checkKey } from './embedded-paths.ts';
import { enforcePostPolicies } from './embedded-post-policy.ts';
import { boundXmlBodies } from './embedded-xml.ts';

/** The embedded store's only credentials: every request must be signed with them (embedded-auth.ts), or be a form POST with a policy signed with them. */
export const EMBEDDED_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

export interface EmbeddedS3 {
  /** Its own listener on 127.0.0.1, for the server's own S3 client: never given to browsers. */
  endpoint: string;
  /** The same store as a Node request handler, which the app mounts at /storage for browsers. */
  handle: (req: IncomingMessage, res: ServerResponse) => void; // a function value: mounted as is, without its object
  stop(): Promise<void>;
}

/**
 * Starts s3rver with the bucket in place; data survives restarts. Browsers reach it through the
 * app (`handle`, same origin: no CORS rule needed). The server's own calls keep a loopback listener
 * on `port` (0: a free one): they then work before the app listens (the install secret is read at
 * start) and never pass through the app's host checks, logs or limits, whatever HOST and PUBLIC_URL say.
 */
export async function startEmbeddedS3(options: {
  dataDir: string;
  port: number;
  bucket: string;
  /** The Host header values the loopback listener answers (default: its own `127.0.0.1:<port>` and `localhost:<port>`). */
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
    // Buckets by path only: by default s3rver takes any host name but localhost for a bucket name
    // (virtual-hosted style), so a page opened as http://nas.lan:8080 would write to bucket "nas.lan".
    vhostBuckets: false,
    configureBuckets: [{ name: options.bucket, configs: [] }],
  });
  let port: number | undefined;
  // Requests the app hands over (`handle`) passed its own known-hosts check; the loopback listener
  // answers only its own address, so a DNS-rebinding page cannot reach it under another name.
  const viaApp = new WeakSet<IncomingMessage>();
  const ownHosts = options.isServedHost ?? loopbackHosts(() => port);
  requireSignatures(server, { credentials: EMBEDDED_CREDENTIALS, isServedHost: (host, req) => viaApp.has(req) || ownHosts(host) });
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
      throw new Error(`The embedded S3 cannot listen on 127.0.0.1:${options.port}: the port is in use.`, { cause: err });
    }
    throw err;
  }
  return {
    endpoint: `http://127.0.0.1:${address.port}`,
    // After the patches above: Koa composes its middleware when the handler is made.
    handle: viaAppHandler(server.callback(), viaApp),
    stop: () => server.close(),
  };
}

function viaAppHandler(callback: (req: IncomingMessage, res: ServerResponse) => unknown, viaApp: WeakSet<IncomingMessage>) {
  return (req: IncomingMessage, res: ServerResponse) => {
    viaApp.add(req);
    void callback(req, res);
  };
}

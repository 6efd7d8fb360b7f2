/**
 * Signs any allowlisted S3 operation and prints the URL:
 *   npm run presign -- get-object --key uploads/… --expires 3600
 *   npm run presign -- list-objects-v2 --param Prefix=uploads/ --param MaxKeys=10
 *   npm run presign -- put-object --key notes/todo.txt --param ContentType=text/plain
 * It reads the same settings as the server. With the embedded store, the app must be running: the
 * URL points at it (PUBLIC_URL, else http://HOST:PORT, 127.0.0.1 for a wildcard HOST) under /storage.
 */
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig, type Config } from '../config/config.ts';
import { EMBEDDED_CREDENTIALS } from '../storage/embedded-s3.ts';
import { createS3Client } from '../storage/s3-client.ts';
import { STORAGE_PATH } from '../storage/storage-origin.ts';
import { presignableOperations, presignOperation, PresignRequestError } from '../signing/presign-operations.ts';

const usage = `Usage: npm run presign -- <operation> [--key KEY] [--expires SECONDS] [--method METHOD] [--param Name=Value]...
Operations: ${Object.keys(presignableOperations).join(', ')}`;

function fail(message: string): never {
  console.error(`${message}\n\n${usage}`);
  process.exit(2);
}

/** Where the running app serves the embedded store: PUBLIC_URL, else its own address (loopback for a wildcard HOST). */
function appOrigin(config: Config): string {
  if (config.publicUrl) return config.publicUrl;
  if (config.port === 0) fail('PORT is 0 (any free port): set PUBLIC_URL or the port the running app uses.');
  const host = ['0.0.0.0', '::', '[::]'].includes(config.host) ? '127.0.0.1' : config.host;
  return `http://${host.includes(':') && !host.startsWith('[') ? `[${host}]` : host}:${config.port}`;
}

function main(): Promise<string> {
  let parsed;
  try {
    parsed = parseArgs({
      allowPositionals: true,
      options: {
        key: { type: 'string' },
        expires: { type: 'string', default: '3600' },
        method: { type: 'string' },
        param: { type: 'string', multiple: true, default: [] },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    fail((err as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    console.log(usage);
    process.exit(0);
  }
  if (positionals.length !== 1) fail('Name exactly one operation.');

  const params: Record<string, string> = {};
  for (const pair of values.param) {
    const eq = pair.indexOf('=');
    if (eq < 1) fail(`--param takes Name=Value, got "${pair}".`);
    params[pair.slice(0, eq)] = pair.slice(eq + 1);
  }

  const config = loadConfig(process.env);
  const { storage } = config;
  let client;
  if (storage.mode === 'embedded') {
    const endpoint = `${appOrigin(config)}${STORAGE_PATH}`;
    console.error(`Signing for the embedded S3 at ${endpoint}; the app must be running (npm start).`);
    client = createS3Client({ region: storage.region, endpoint, forcePathStyle: true, credentials: EMBEDDED_CREDENTIALS }, config.s3Client);
  } else {
    client = createS3Client(
      { region: storage.region, endpoint: storage.publicEndpoint ?? storage.endpoint, forcePathStyle: storage.forcePathStyle },
      config.s3Client,
    );
  }

  return presignOperation(client, {
    operation: positionals[0]!,
    bucket: storage.bucket,
    key: values.key,
    params,
    expiresIn: Number(values.expires),
    method: values.method,
  });
}

main().then(
  (url) => console.log(url),
  (err) => {
    if (err instanceof PresignRequestError) fail(err.message);
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(2);
    }
    console.error(`Could not sign: ${(err as Error).message}`);
    process.exit(1);
  },
);

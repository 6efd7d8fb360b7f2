/**
 * `npm run bench:upload`: how fast a big file goes up through the SPA (multipart, parts in parallel,
 * each with its MD5) compared with one plain presigned PUT from Node, to the same S3, and how much
 * memory the server process uses meanwhile. Not a test: it prints figures. After one upload of each
 * kind that is not counted (a fresh store's first gigabyte is the slowest), (a) and (b) go in turns
 * for ROUNDS rounds, and each throughput is all its bytes over all its seconds.
 *
 *   BENCH_SIZE_MIB=1024 (default)   BENCH_PORT=38190 (default; the embedded S3 listens on +1)
 *   BENCH_S3=embedded (default) | rgw (a throwaway Ceph RGW from scripts/ceph-rgw.sh, as root)
 *
 * The server runs as a child process (`node --import tsx server/main.ts`); its resident memory is
 * sampled every 50 ms from /proc/<pid>/status (VmRSS). The embedded S3 lives in that same process,
 * so there its figure includes storage receiving the bytes; with RGW it is Postbox alone.
 */
import { execFileSync, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, open, readFile, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { CreateBucketCommand, PutBucketCorsCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { chromium } from '@playwright/test';
import { api, MiB, MultipartUpload, type UploadSettings } from '../contract/api.ts';
import { corsRule } from '../server/storage/cors.ts';
import { EMBEDDED_CREDENTIALS } from '../server/storage/embedded-s3.ts';
import { createSigningClient } from '../server/storage/s3-client.ts';


const size = Number(process.env.BENCH_SIZE_MIB ?? 1024) * MiB;
const port = Number(process.env.BENCH_PORT ?? 38190);
const root = path.resolve(import.meta.dirname, '..');
const target = process.env.BENCH_S3 ?? 'embedded';
/** Measured rounds of (a) then (b), after one warm-up upload of each. */
const ROUNDS = 2;
if (target !== 'embedded' && target !== 'rgw') throw new Error(`BENCH_S3 must be embedded or rgw (got ${target})`);

/** What to undo, last first: run at the end, on an error, and on Ctrl-C. */
const cleanups: Array<() => unknown> = [];
async function cleanUp() {
  while (cleanups.length > 0) {
    try {
      await cleanups.pop()!();
    } catch (err) {
      console.error('bench:upload: cleanup failed:', err);
    }
  }
}
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => void cleanUp().finally(() => process.exit(130)));
}

interface Storage {
  name: string;
  /** The server's environment for this storage. */
  env: Record<string, string>;
  endpoint: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  bucket: string;
}

function embeddedStorage(dataDir: string): Storage {
  return {
    name: 'the embedded S3 (s3rver, in the server process)',
    env: { POSTBOX_DATA_DIR: dataDir },
    // Browsers reach the embedded store through the app (/storage): the plain PUT goes the same way.
    endpoint: `http://127.0.0.1:${port}/storage`,
    credentials: EMBEDDED_CREDENTIALS,
    bucket: 'postbox',
  };
}

/** A throwaway Ceph RGW with room for both uploads, and a bucket with the app's CORS rule, as an operator would make it. */
async function rgwStorage(): Promise<Storage> {
  console.log('Starting a throwaway Ceph RGW…');
  const lines = execFileSync('bash', [path.join(root, 'scripts/ceph-rgw.sh'), 'start'], {
    env: { ...process.env, CEPH_RGW_MEMSTORE_MIB: String(Math.ceil(((ROUNDS + 1) * 3 * size) / MiB) + 1024) },
    stdio: ['ignore', 'pipe', 'inherit'],
  }).toString();
  // NAME=value lines, shell-quoted (%q): the values here never need quoting.
  const env = Object.fromEntries(lines.trim().split('\n').map((line) => line.split(/=(.*)/s).slice(0, 2) as [string, string]));
  cleanups.push(() => execFileSync('bash', [path.join(root, 'scripts/ceph-rgw.sh'), 'stop', env.CEPH_RGW_STATE_DIR!], { stdio: 'inherit' }));
  const storage: Storage = {
    name: 'Ceph RGW 16 (memstore OSD), path-style',
    endpoint: env.S3_ENDPOINT!,
    credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID!, secretAccessKey: env.AWS_SECRET_ACCESS_KEY! },
    bucket: 'postbox-bench',
    env: {},
  };
  storage.env = {
    S3_BUCKET: storage.bucket,
    S3_ENDPOINT: storage.endpoint,
    S3_FORCE_PATH_STYLE: 'true',
    AWS_ACCESS_KEY_ID: storage.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: storage.credentials.secretAccessKey,
  };
  const s3 = new S3Client({ region: 'us-east-1', endpoint: storage.endpoint, forcePathStyle: true, credentials: storage.credentials });
  await s3.send(new CreateBucketCommand({ Bucket: storage.bucket }));
  await s3.send(new PutBucketCorsCommand({ Bucket: storage.bucket, CORSConfiguration: { CORSRules: [corsRule([`http://127.0.0.1:${port}`])] } }));
  s3.destroy();
  return storage;
}

const fmt = (bytesPerSecond: number) => `${(bytesPerSecond / MiB).toFixed(1)} MiB/s`;

async function writeRandomFile(file: string, bytes: number): Promise<string> {
  const handle = await open(file, 'w');
  const hash = createHash('sha256');
  const chunk = 4 * MiB;
  for (let written = 0; written < bytes; written += chunk) {
    const data = randomBytes(Math.min(chunk, bytes - written));
    hash.update(data);
    await handle.write(data);
  }
  await handle.close();
  return hash.digest('hex');
}

async function rssKiB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0);
}

async function waitFor(url: string, timeoutMs: number) {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    const ok = await fetch(url).then((r) => r.ok, () => false);
    if (ok) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${url} did not answer within ${timeoutMs} ms`);
}

async function main() {
  const dir = await mkdtemp(path.join(tmpdir(), 'postbox-bench-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'bench-1GiB.bin');
  console.log(`Writing a ${size / MiB} MiB random file…`);
  await writeRandomFile(file, size);

  const storage = target === 'rgw' ? await rgwStorage() : embeddedStorage(path.join(dir, 'data'));
  const server = spawn(process.execPath, ['--import', 'tsx', 'server/main.ts'], {
    cwd: root,
    env: {
      ...process.env,
      ...storage.env,
      HOST: '127.0.0.1',
      PORT: String(port),
      MAX_UPLOAD_BYTES: String(Math.max(size, 1024 ** 3)),
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const exited = new Promise((resolve) => server.once('exit', resolve));
  cleanups.push(async () => {
    if (server.exitCode === null && server.signalCode === null) server.kill('SIGTERM');
    await exited;
  });
  const pid = server.pid!;
  await waitFor(`http://127.0.0.1:${port}/api/health`, 60_000);
  const settings = (await (await fetch(`http://127.0.0.1:${port}/api/settings`)).json()) as UploadSettings;
  const idleRss = await rssKiB(pid);

  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  cleanups.push(() => browser.close());
  let partSize = 0;
  let peakRss = idleRss;

  /** (a) Through the SPA in headless Chromium, in a fresh page; the server's RSS sampled meanwhile. */
  async function throughSpa(): Promise<{ seconds: number; partsSeconds: number }> {
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        peakRss = Math.max(peakRss, await rssKiB(pid));
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    const page = await browser.newPage();
    try {
      page.on('response', async (response) => {
        if (response.request().method() === 'POST' && new URL(response.url()).pathname === api.multipartUploads) {
          partSize = MultipartUpload.parse(await response.json()).partSize;
        }
      });
      await page.goto(`http://127.0.0.1:${port}/`);
      await page.getByText('Storage online').waitFor();
      const started = performance.now();
      await page.getByTestId('file-input').setInputFiles(file);
      const upload = page.getByTestId('upload');
      const failed = upload.getByRole('alert');
      const whenFailed = async () => {
        if (await failed.isVisible()) throw new Error(`the upload failed: ${await failed.textContent()}`);
      };
      await upload.getByRole('progressbar', { includeHidden: true }).and(page.locator('[aria-valuenow="100"]')).or(failed).waitFor({ timeout: 30 * 60_000 });
      await whenFailed();
      const partsSeconds = (performance.now() - started) / 1000;
      await upload.filter({ hasText: 'Uploaded ·' }).or(failed).waitFor({ timeout: 30 * 60_000 });
      await whenFailed();
      return { seconds: (performance.now() - started) / 1000, partsSeconds };
    } finally {
      sampling = false;
      await sampler;
      await page.close();
    }
  }

  /** (b) One plain presigned PUT of the whole file from Node, to the same S3. */
  const client = createSigningClient({ region: 'us-east-1', endpoint: storage.endpoint, forcePathStyle: true, credentials: storage.credentials });
  cleanups.push(() => client.destroy());
  async function onePut(round: number): Promise<number> {
    const url = new URL(await getSignedUrl(client, new PutObjectCommand({ Bucket: storage.bucket, Key: `bench/plain-put-${round}.bin` }), { expiresIn: 3600 }));
    const started = performance.now();
    await new Promise<void>((resolve, reject) => {
      const req = request(url, { method: 'PUT', headers: { 'content-length': String(size) } }, (res) => {
        res.resume();
        res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`PUT answered ${res.statusCode}`))));
      });
      req.on('error', reject);
      pipeline(createReadStream(file), req).catch(reject);
    });
    return (performance.now() - started) / 1000;
  }

  // A store's first gigabyte is slower than the next (RGW's memstore grows, caches fill), and
  // whichever upload went first paid for it: one of each first, not counted, then (a) and (b) in
  // turns, so that both see the same store.
  console.log('Warm-up: one upload of each kind (not counted)…');
  await throughSpa();
  await onePut(0);
  const spaRuns: Array<{ seconds: number; partsSeconds: number }> = [];
  const putRuns: number[] = [];
  for (let round = 1; round <= ROUNDS; round++) {
    spaRuns.push(await throughSpa());
    putRuns.push(await onePut(round));
    console.log(`round ${round}: (a) ${fmt(size / spaRuns.at(-1)!.seconds)}, (b) ${fmt(size / putRuns.at(-1)!)}`);
  }

  const sum = (xs: number[]) => xs.reduce((x, y) => x + y, 0);
  const spaSeconds = sum(spaRuns.map((r) => r.seconds));
  const partsSeconds = sum(spaRuns.map((r) => r.partsSeconds));
  const putSeconds = sum(putRuns);
  const spa = (ROUNDS * size) / spaSeconds;
  const put = (ROUNDS * size) / putSeconds;
  console.log('');
  console.log(`storage: ${storage.name}`);
  console.log(`file: ${size / MiB} MiB; multipart threshold ${settings.multipartThresholdBytes / MiB} MiB, parts of ${partSize / MiB} MiB, ${settings.multipartConcurrency} at a time`);
  console.log(`over ${ROUNDS} rounds after the warm-up (bytes over seconds, all rounds together):`);
  console.log(`(a) SPA in headless Chromium, multipart: ${(spaSeconds / ROUNDS).toFixed(1)} s per upload, ${fmt(spa)}`);
  console.log(`    of which sending the parts: ${(partsSeconds / ROUNDS).toFixed(1)} s (${fmt((ROUNDS * size) / partsSeconds)}); completing (storage joins the parts): ${((spaSeconds - partsSeconds) / ROUNDS).toFixed(1)} s`);
  console.log(`(b) one presigned PUT from Node:             ${(putSeconds / ROUNDS).toFixed(1)} s per upload, ${fmt(put)}`);
  console.log(`ratio (a)/(b): ${(spa / put).toFixed(2)}`);
  console.log(`server process${target === 'embedded' ? ' (with the embedded S3 in it)' : ''} RSS: idle ${(idleRss / 1024).toFixed(0)} MiB, peak during (a) ${(peakRss / 1024).toFixed(0)} MiB`);
}

try {
  await main();
} finally {
  await cleanUp();
}

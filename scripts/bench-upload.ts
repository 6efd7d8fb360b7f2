/**
 * `npm run bench:upload`: how fast a big file goes up through the SPA (multipart, parts in parallel,
 * each with its MD5) compared with one plain presigned PUT from Node, to the same embedded S3, and
 * how much memory the server process uses meanwhile. Not a test: it prints figures.
 *
 *   BENCH_SIZE_MIB=1024 (default)   BENCH_PORT=38190 (default; the embedded S3 listens on +1)
 *
 * The server runs as a child process (`node --import tsx server/main.ts`); its resident memory is
 * sampled every 50 ms from /proc/<pid>/status (VmRSS). The embedded S3 lives in that same process,
 * so its figure includes storage receiving the bytes: Postbox itself never touches them.
 */
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, open, readFile, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { chromium } from '@playwright/test';
import { EMBEDDED_CREDENTIALS } from '../server/storage/embedded-s3.ts';

const MiB = 1024 * 1024;
const size = Number(process.env.BENCH_SIZE_MIB ?? 1024) * MiB;
const port = Number(process.env.BENCH_PORT ?? 38190);
const s3Port = port + 1;
const root = path.resolve(import.meta.dirname, '..');

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
  const file = path.join(dir, 'bench-1GiB.bin');
  console.log(`Writing a ${size / MiB} MiB random file…`);
  await writeRandomFile(file, size);

  const server = spawn(process.execPath, ['--import', 'tsx', 'server/main.ts'], {
    cwd: root,
    env: {
      ...process.env,
      HOST: '127.0.0.1',
      PORT: String(port),
      EMBEDDED_S3_PORT: String(s3Port),
      POSTBOX_DATA_DIR: path.join(dir, 'data'),
      MAX_UPLOAD_BYTES: String(Math.max(size, 1024 ** 3)),
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const pid = server.pid!;
  try {
    await waitFor(`http://127.0.0.1:${port}/api/health`, 60_000);
    const settings = await (await fetch(`http://127.0.0.1:${port}/api/settings`)).json();
    const idleRss = await rssKiB(pid);

    // (a) Through the SPA in headless Chromium.
    const browser = await chromium.launch({
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
    let peakRss = idleRss;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        peakRss = Math.max(peakRss, await rssKiB(pid));
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    let spaSeconds: number;
    let partsSeconds: number;
    try {
      const page = await browser.newPage();
      await page.goto(`http://127.0.0.1:${port}/`);
      await page.getByText('Storage online').waitFor();
      const started = performance.now();
      await page.getByTestId('file-input').setInputFiles(file);
      await page.getByTestId('upload').getByRole('progressbar', { includeHidden: true }).and(page.locator('[aria-valuenow="100"]')).waitFor({ timeout: 30 * 60_000 });
      partsSeconds = (performance.now() - started) / 1000;
      await page.getByTestId('upload').filter({ hasText: 'Uploaded ·' }).waitFor({ timeout: 30 * 60_000 });
      spaSeconds = (performance.now() - started) / 1000;
    } finally {
      sampling = false;
      await sampler;
      await browser.close();
    }

    // (b) One plain presigned PUT of the whole file from Node, to the same embedded S3.
    const client = new S3Client({ region: 'us-east-1', endpoint: `http://127.0.0.1:${s3Port}`, forcePathStyle: true, credentials: EMBEDDED_CREDENTIALS });
    const url = new URL(await getSignedUrl(client, new PutObjectCommand({ Bucket: 'postbox', Key: 'bench/plain-put.bin' }), { expiresIn: 3600 }));
    client.destroy();
    const putStarted = performance.now();
    await new Promise<void>((resolve, reject) => {
      const req = request(url, { method: 'PUT', headers: { 'content-length': String(size) } }, (res) => {
        res.resume();
        res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`PUT answered ${res.statusCode}`))));
      });
      req.on('error', reject);
      pipeline(createReadStream(file), req).catch(reject);
    });
    const putSeconds = (performance.now() - putStarted) / 1000;

    const spa = size / spaSeconds;
    const put = size / putSeconds;
    console.log('');
    console.log(`file: ${size / MiB} MiB; multipart threshold ${settings.multipartThresholdBytes / MiB} MiB, ${settings.multipartConcurrency} parts at a time`);
    console.log(`(a) SPA in headless Chromium, multipart: ${spaSeconds.toFixed(1)} s, ${fmt(spa)}`);
    console.log(`    of which sending the parts: ${partsSeconds.toFixed(1)} s (${fmt(size / partsSeconds)}); completing (storage joins the parts): ${(spaSeconds - partsSeconds).toFixed(1)} s`);
    console.log(`(b) one presigned PUT from Node:        ${putSeconds.toFixed(1)} s, ${fmt(put)}`);
    console.log(`ratio (a)/(b): ${(spa / put).toFixed(2)}`);
    console.log(`server process (with the embedded S3 in it) RSS: idle ${(idleRss / 1024).toFixed(0)} MiB, peak during (a) ${(peakRss / 1024).toFixed(0)} MiB`);
  } finally {
    server.kill('SIGTERM');
    await new Promise((r) => server.once('exit', r));
    await rm(dir, { recursive: true, force: true });
  }
}

await main();

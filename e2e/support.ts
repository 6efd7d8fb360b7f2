import { CreateBucketCommand, PutBucketCorsCommand, S3Client } from '@aws-sdk/client-s3';
import { createHash, randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { expect, test, type Download, type Page, type TestInfo } from '@playwright/test';
import { api } from '../contract/api.ts';
import jsQR from 'jsqr';
import { PNG } from 'pngjs';
import { MULTIPART_PORT, REAL_S3_BUCKET, REAL_S3_PORT } from '../playwright.config.ts';
import { corsRule } from '../server/storage/cors.ts';

export const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

export function makeFile(name: string, size: number, mimeType = 'application/octet-stream') {
  return { name, mimeType, buffer: randomBytes(size) };
}

/** Saves a screenshot in the test's output folder and attaches it to the report. */
export async function snap(page: Page, testInfo: TestInfo, name: string) {
  const file = testInfo.outputPath(`${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  await testInfo.attach(name, { path: file, contentType: 'image/png' });
}

/** Slows this page's uploads (Chromium network emulation), so progress can be seen and cancelled. */
export async function throttleUploads(page: Page, bytesPerSecond: number) {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.emulateNetworkConditions', {
    offline: false,
    latency: 0,
    downloadThroughput: -1,
    uploadThroughput: bytesPerSecond,
  });
  return async () => {
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
    await cdp.detach();
  };
}

/** Follows a link the way a person clicking it would, and returns the browser's download. */
export async function downloadThroughBrowser(page: Page, url: string): Promise<{ download: Download; bytes: Buffer }> {
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.evaluate((href) => {
      const anchor = document.createElement('a');
      anchor.href = href;
      document.body.append(anchor);
      anchor.click();
      anchor.remove();
    }, url),
  ]);
  return { download, bytes: await readFile(await download.path()) };
}

/** Holds the page's GET /api/settings until `release()`; `asked()` tells whether the page has asked for them. */
export async function holdSettings(page: Page): Promise<{ asked: () => boolean; release: () => void }> {
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  let asked = false;
  await page.route(`**${api.settings}`, async (route) => {
    asked = true;
    await held;
    await route.continue();
  });
  return { asked: () => asked, release };
}

/** The text a QR code PNG (a `data:image/png;base64,…` URL, as the page offers it for download) decodes to. */
export function decodeQrPng(dataUrl: string): string | undefined {
  const png = PNG.sync.read(Buffer.from(dataUrl.replace(/^data:image\/png;base64,/, ''), 'base64'));
  return jsQR(new Uint8ClampedArray(png.data), png.width, png.height)?.data;
}

/**
 * The bucket of the app on a real S3 (Ceph RGW) and its CORS rule for `origin`, made as an operator
 * would (Postbox creates nothing on external storage); a bucket left by an earlier spec is kept.
 */
export async function prepareRealS3Bucket(endpoint: string, bucket: string, origin: string) {
  const s3 = new S3Client({
    region: 'us-east-1',
    endpoint,
    forcePathStyle: true,
    credentials: { accessKeyId: process.env.POSTBOX_RGW_ACCESS_KEY_ID!, secretAccessKey: process.env.POSTBOX_RGW_SECRET_ACCESS_KEY! },
  });
  try {
    await s3.send(new CreateBucketCommand({ Bucket: bucket })).catch((err: Error) => {
      if (err.name !== 'BucketAlreadyOwnedByYou') throw err;
    });
    await s3.send(new PutBucketCorsCommand({ Bucket: bucket, CORSConfiguration: { CORSRules: [corsRule([origin])] } }));
  } finally {
    s3.destroy();
  }
}

/**
 * The two stores scenarios run on alike: the embedded one (same origin, /storage) and a real S3 (Ceph
 * RGW, another origin, reached through the bucket's CORS rule). Both apps put big files up in parts.
 */
export const STORE_TARGETS = [
  { name: 'the embedded store', key: 'embedded', port: MULTIPART_PORT, realS3: false },
  { name: 'a real S3 (Ceph RGW)', key: 'rgw', port: REAL_S3_PORT, realS3: true },
] as const;
export type StoreTarget = (typeof STORE_TARGETS)[number];

/**
 * Inside a describe: its tests run on this target's app. On RGW they are skipped when no RGW was
 * started (never in CI), and the bucket and its CORS rule are made first, as an operator would.
 */
export function useStoreTarget(target: StoreTarget) {
  test.use({ baseURL: `http://127.0.0.1:${target.port}` });
  if (!target.realS3) return;
  const endpoint = process.env.POSTBOX_RGW_ENDPOINT;
  test.skip(!endpoint && process.env.CI !== 'true', 'No Ceph RGW: run npm test as root, which starts one (see README).');
  test.beforeAll(async () => {
    expect(endpoint, 'CI must run these scenarios against a real S3').toBeTruthy();
    await prepareRealS3Bucket(endpoint!, REAL_S3_BUCKET, `http://127.0.0.1:${target.port}`);
  });
}

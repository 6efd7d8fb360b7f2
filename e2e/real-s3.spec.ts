import { expect, test, type Page } from '@playwright/test';
import { E2E_MULTIPART_THRESHOLD_BYTES, REAL_S3_BUCKET, REAL_S3_PORT } from '../playwright.config.ts';
import { downloadThroughBrowser, makeFile, prepareRealS3Bucket, sha256, snap } from './support.ts';

// The browser form upload against a real S3 (Ceph RGW, started by scripts/test.sh).
const endpoint = process.env.POSTBOX_RGW_ENDPOINT;
const origin = `http://127.0.0.1:${REAL_S3_PORT}`;

/** This upload's row in the file list, once it is done: the newest of that name (the bucket may outlive a run). */
async function uploadedRow(page: Page, name: string, timeout: number) {
  await expect(page.getByTestId('upload').filter({ hasText: name })).toContainText('Uploaded', { timeout });
  const row = page.getByTestId('file-row').filter({ hasText: name }).first();
  await expect(row).toBeVisible();
  return row;
}

test.describe('on a real S3 (Ceph RGW)', () => {
  test.skip(!endpoint && process.env.CI !== 'true', 'No Ceph RGW: run npm test as root, which starts one (see README).');
  test.use({ baseURL: origin });

  test.beforeAll(async () => {
    expect(endpoint, 'CI must run the browser upload against a real S3').toBeTruthy();
    // Postbox creates nothing on external storage: make the bucket and its CORS rule as an operator would.
    await prepareRealS3Bucket(endpoint!, REAL_S3_BUCKET, origin);
  });

  test('the browser form upload lands byte-identical and the link downloads it', async ({ page }, testInfo) => {
    await page.goto('/');
    await expect(page.getByRole('banner').getByRole('status')).toHaveText('Storage online');
    const file = makeFile('Jahresbericht – Übersicht.pdf', 2 * 1024 * 1024 + 17, 'application/pdf');
    await page.getByTestId('file-input').setInputFiles(file);
    const row = await uploadedRow(page, file.name, 30_000);

    await row.getByRole('button', { name: 'Share' }).click();
    await row.getByRole('button', { name: 'Create link' }).click();
    const url = await row.getByLabel(`Download link for ${file.name}`).inputValue();
    expect(url.startsWith(`${endpoint}/${REAL_S3_BUCKET}/`)).toBe(true);
    await snap(page, testInfo, '11-real-s3');

    const { download, bytes } = await downloadThroughBrowser(page, url);
    expect(download.suggestedFilename()).toBe(file.name);
    expect(sha256(bytes)).toBe(sha256(file.buffer));
  });

  test('a big file goes up in multipart parts (each ETag, read through CORS, checked against its MD5) and lands byte-identical', async ({
    page,
  }, testInfo) => {
    test.setTimeout(120_000);
    await page.goto('/');
    await expect(page.getByRole('banner').getByRole('status')).toHaveText('Storage online');
    const file = makeFile('big on rgw.bin', E2E_MULTIPART_THRESHOLD_BYTES * 2 + 12345);
    let partPuts = 0;
    page.on('request', (request) => {
      if (request.method() === 'PUT' && new URL(request.url()).searchParams.get('x-id') === 'UploadPart') partPuts++;
    });
    await page.getByTestId('file-input').setInputFiles(file);
    const row = await uploadedRow(page, file.name, 60_000);
    expect(partPuts).toBe(5); // 8 MiB parts
    await snap(page, testInfo, '12-real-s3-multipart');

    await row.getByRole('button', { name: 'Share' }).click();
    await row.getByRole('button', { name: 'Create link' }).click();
    const url = await row.getByLabel(`Download link for ${file.name}`).inputValue();
    const response = await page.request.get(url);
    expect(response.status()).toBe(200);
    expect(response.headers()['content-disposition']).toMatch(/^attachment;/);
    expect(sha256(await response.body())).toBe(sha256(file.buffer));
  });
});

import { expect, test } from '@playwright/test';
import { E2E_MAX_UPLOAD_BYTES } from '../playwright.config.ts';
import { makeFile, snap } from './support.ts';

test('a file over the limit is refused before anything is sent', async ({ page }, testInfo) => {
  await page.goto('/');
  await expect(page.getByText('Up to 5 MiB per file.')).toBeVisible();
  let signRequests = 0;
  page.on('request', (request) => {
    if (request.url().endsWith('/api/uploads')) signRequests += 1;
  });
  await page.getByTestId('file-input').setInputFiles(makeFile('too-big.iso', E2E_MAX_UPLOAD_BYTES + 1));
  const upload = page.getByTestId('upload').filter({ hasText: 'too-big.iso' });
  await expect(upload.getByRole('alert')).toHaveText('This file is too large: the limit is 5 MiB per file.');
  await expect(upload.getByRole('button', { name: 'Retry' })).toHaveCount(0);
  await snap(page, testInfo, '08-too-large');
  expect(signRequests).toBe(0);
});

test('when Postbox itself stops answering, the header says so instead of the last good storage state', async ({ page }, testInfo) => {
  await page.clock.install();
  await page.goto('/');
  const pill = page.getByRole('banner').getByRole('status');
  await expect(pill).toHaveText('Storage online (embedded)');
  await page.route('**/api/health', (route) => route.abort('connectionrefused'));
  await page.clock.fastForward(15_000); // the next health check, then its retries
  // Each poll moves the page's clock on by a few seconds: the retries' backoff (1 s, 2 s, 4 s) is
  // covered in a few polls however slowly a busy machine runs them.
  await expect
    .poll(
      async () => {
        await page.clock.fastForward(4000);
        return pill.textContent();
      },
      { timeout: 20_000 },
    )
    .toBe('Postbox unreachable');
  await snap(page, testInfo, '09-postbox-unreachable');
});

test('when storage comes back, the file list that failed meanwhile is fetched again by itself', async ({ page }) => {
  await page.clock.install();
  const down = { status: 503, json: { error: { code: 'storage_unavailable', message: 'Storage is down.' } } };
  await page.route('**/api/health', (route) =>
    route.fulfill({ status: 503, json: { status: 'unavailable', storage: { reachable: false, mode: 'embedded' } } }),
  );
  await page.route('**/api/files?*', (route) => route.fulfill(down));
  await page.route('**/api/files', (route) => route.fulfill(down));
  await page.goto('/');
  await expect(page.getByRole('banner').getByRole('status')).toHaveText('Storage unreachable');
  await page.clock.runFor(5_000); // the list's own retries
  await expect(page.getByRole('alert')).toContainText('Storage is unreachable right now.');

  await page.unrouteAll();
  await page.clock.runFor(16_000); // the next health check
  await expect(page.getByRole('banner').getByRole('status')).toContainText('Storage online');
  await expect(page.getByRole('alert')).toHaveCount(0);
});

test.describe('when storage is down', () => {
  test.use({ baseURL: `http://127.0.0.1:${Number(process.env.E2E_PORT ?? 18080) + 1}` });

  test('the page says so, and an upload fails with a sentence and a retry', async ({ page }, testInfo) => {
    await page.goto('/');
    await expect(page.getByRole('banner').getByRole('status')).toHaveText('Storage unreachable');
    await expect(page.getByRole('alert')).toContainText('Storage is unreachable right now.', { timeout: 15_000 });
    await expect(page.getByRole('button', { name: 'Try again' })).toBeVisible();
    await expect(page.getByText('Storage is unreachable right now: uploads will fail until it is back.')).toBeVisible();

    await page.getByTestId('file-input').setInputFiles(makeFile('report.pdf', 1000, 'application/pdf'));
    const upload = page.getByTestId('upload').filter({ hasText: 'report.pdf' });
    await expect(upload.getByRole('alert')).toHaveText(
      'Storage could not be reached from this browser, so nothing was sent. Try again in a moment.',
    );
    await expect(upload.getByRole('button', { name: 'Retry' })).toBeVisible();
    await snap(page, testInfo, '09-storage-down');
  });
});

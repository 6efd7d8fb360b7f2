import { expect, test, type APIRequestContext } from '@playwright/test';
import { api, FilePage } from '../contract/api.ts';
import { downloadThroughBrowser, holdSettings, makeFile, sha256, snap, throttleUploads } from './support.ts';

/** Other tests share this server: start from an empty bucket, through the API. */
async function deleteAllFiles(request: APIRequestContext) {
  const page = FilePage.parse(await (await request.get(`${api.files}?limit=1000`)).json());
  for (const file of page.files) expect((await request.delete(api.file(file.key))).status()).toBe(204);
}

test('a person uploads a file, shares a link, downloads it and deletes it', async ({ page }, testInfo) => {
  await deleteAllFiles(page.request);
  await page.goto('/');
  await expect(page.getByText('No files yet')).toBeVisible();
  await expect(page.getByRole('banner').getByRole('status')).toHaveText('Storage online (embedded)');
  await snap(page, testInfo, '01-empty');

  // Slow the upload down so its progress is visible, as on a real network.
  const unthrottle = await throttleUploads(page, 1024 * 1024);
  const file = makeFile('Résumé – Grüße 2026.txt', 3 * 1024 * 1024, 'text/plain');
  await page.getByTestId('file-input').setInputFiles(file);

  const upload = page.getByTestId('upload').filter({ hasText: file.name });
  const progress = upload.getByRole('progressbar');
  await expect.poll(async () => Number(await progress.getAttribute('aria-valuenow')), { timeout: 15_000 }).toBeGreaterThan(10);
  await expect(upload).toContainText(/\d+% · [\d.]+ MiB of 3 MiB/);
  await snap(page, testInfo, '02-uploading');
  await unthrottle();

  await expect(upload).toContainText('Uploaded · 3 MiB', { timeout: 30_000 });
  await expect(progress).toHaveAttribute('aria-valuenow', '100');
  const row = page.getByTestId('file-row').filter({ hasText: file.name });
  await expect(row).toBeVisible();
  await expect(row).toContainText('3 MiB · text/plain');
  await snap(page, testInfo, '03-uploaded');

  await row.getByRole('button', { name: 'Share' }).click();
  await row.getByLabel('Link valid for').selectOption({ label: '1 day' });
  await row.getByRole('button', { name: 'Create link' }).click();
  const linkField = row.getByLabel(`Download link for ${file.name}`);
  await expect(linkField).toHaveValue(/X-Amz-Expires=86400/);
  const url = await linkField.inputValue();
  await row.getByRole('button', { name: 'Copy link' }).click();
  await expect(row.getByRole('button', { name: 'Copied' })).toBeVisible();
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(url);
  await snap(page, testInfo, '04-link');

  // The link works in a plain browser: it downloads as an attachment under the original name.
  const { download, bytes } = await downloadThroughBrowser(page, url);
  expect(download.suggestedFilename()).toBe(file.name);
  expect(sha256(bytes)).toBe(sha256(file.buffer));

  // And with any HTTP client.
  const direct = await page.request.get(url);
  expect(direct.status()).toBe(200);
  expect(direct.headers()['content-disposition']).toContain("filename*=UTF-8''R%C3%A9sum%C3%A9");
  expect(sha256(await direct.body())).toBe(sha256(file.buffer));

  await row.getByRole('button', { name: `Delete ${file.name}` }).click();
  const dialog = page.getByRole('dialog', { name: 'Delete this file?' });
  await expect(dialog).toContainText(file.name);
  await snap(page, testInfo, '05-confirm-delete');
  await dialog.getByRole('button', { name: 'Delete' }).click();
  await expect(row).toHaveCount(0);
  await expect(page.getByText('No files yet')).toBeVisible();
  expect((await page.request.get(url)).status()).toBe(404);
});

test('several files at once, with a name full of markup shown as text', async ({ page }, testInfo) => {
  await page.goto('/');
  const markup = '<img src=x onerror="window.pwned=1"> & <b>bold.html';
  await page
    .getByTestId('file-input')
    .setInputFiles([
      makeFile(markup, 2000, 'text/html'),
      makeFile('photo.png', 50_000, 'image/png'),
      makeFile('notes.md', 10, 'text/markdown'),
    ]);
  for (const name of [markup, 'photo.png', 'notes.md']) {
    await expect(page.getByTestId('file-row').filter({ hasText: name })).toBeVisible();
  }
  const row = page.getByTestId('file-row').filter({ hasText: markup });
  await expect(row.locator('.file__name')).toHaveText(markup);
  await expect(row.locator('img, b')).toHaveCount(0);
  expect(await page.evaluate(() => (window as { pwned?: number }).pwned)).toBeUndefined();
  await snap(page, testInfo, '06-several-files');

  await page.getByRole('button', { name: 'Clear finished' }).click();
  await expect(page.getByTestId('upload')).toHaveCount(0);
});

test('an upload can be cancelled and retried', async ({ page }, testInfo) => {
  await page.goto('/');
  const unthrottle = await throttleUploads(page, 256 * 1024);
  const file = makeFile('big-video.bin', 4 * 1024 * 1024);
  await page.getByTestId('file-input').setInputFiles(file);
  const upload = page.getByTestId('upload').filter({ hasText: file.name });
  await expect(upload).toContainText('% ·');
  await upload.getByRole('button', { name: 'Cancel' }).click();
  await expect(upload).toContainText('Upload cancelled.');
  await snap(page, testInfo, '07-cancelled');
  await expect(page.getByTestId('file-row').filter({ hasText: file.name })).toHaveCount(0);

  await unthrottle();
  await upload.getByRole('button', { name: 'Retry' }).click();
  await expect(upload).toContainText('Uploaded', { timeout: 30_000 });
  await expect(page.getByTestId('file-row').filter({ hasText: file.name })).toBeVisible();
});

test('a file uploaded while the first listing is on its way still shows up in the list', async ({ page }) => {
  // The first listing is taken by the server at once but answered only after the upload has landed.
  let listed = 0;
  let uploadLanded!: () => void;
  const landed = new Promise<void>((resolve) => (uploadLanded = resolve));
  await page.route(`**${api.files}`, async (route) => {
    if (listed++ > 0) return route.continue();
    const response = await route.fetch();
    await landed;
    await route.fulfill({ response });
  });
  await page.goto('/');
  const file = makeFile('early-listing.txt', 64, 'text/plain');
  await page.getByTestId('file-input').setInputFiles(file);
  await expect(page.getByTestId('upload').filter({ hasText: file.name })).toContainText('Uploaded');
  uploadLanded();
  await expect(page.getByTestId('file-row').filter({ hasText: file.name })).toBeVisible();
  expect(listed).toBeGreaterThanOrEqual(2);
});

test('an upload cancelled while the page still waits for its settings never starts, and Retry sends it once', async ({ page }) => {
  const settings = await holdSettings(page);
  const signed: string[] = [];
  page.on('request', (request) => {
    if (request.method() === 'POST' && request.url().endsWith(api.uploads)) signed.push(request.url());
  });
  await page.goto('/');
  const file = makeFile('never-mind.txt', 64, 'text/plain');
  await page.getByTestId('file-input').setInputFiles(file);
  const upload = page.getByTestId('upload').filter({ hasText: file.name });
  await upload.getByRole('button', { name: 'Cancel' }).click();
  expect(settings.asked()).toBe(true);
  settings.release();
  await expect(upload).toContainText('Upload cancelled.');
  await page.waitForTimeout(500); // what a late start would need to show itself
  expect(signed).toEqual([]);

  const retry = upload.getByRole('button', { name: 'Retry' });
  await retry.click();
  await expect(upload).toContainText('Uploaded');
  expect(signed).toHaveLength(1);
  await expect(page.getByTestId('file-row').filter({ hasText: file.name })).toHaveCount(1);
});

test('leaving the page while an upload runs asks first; once it is done, leaving does not ask', async ({ page }) => {
  const settings = await holdSettings(page); // keeps the upload running (waiting for settings)
  await page.goto('/');
  // Browsers only ask on pages the user has interacted with.
  await page.getByRole('heading', { name: 'Send files' }).click();
  await page.getByTestId('file-input').setInputFiles(makeFile('stay.txt', 100, 'text/plain'));
  const upload = page.getByTestId('upload').filter({ hasText: 'stay.txt' });
  await expect(upload).toContainText('Preparing…');

  const asked = page.waitForEvent('dialog');
  await page.close({ runBeforeUnload: true });
  const dialog = await asked;
  expect(dialog.type()).toBe('beforeunload');
  await dialog.dismiss(); // stay

  settings.release();
  await expect(upload).toContainText('Uploaded · 100 bytes');
  page.on('dialog', () => {
    throw new Error('asked again after the upload was done');
  });
  const closed = page.waitForEvent('close');
  await page.close({ runBeforeUnload: true });
  await closed;
});

test('where the page may not use the clipboard, Copy selects the link and says to press Ctrl+C', async ({ page }) => {
  // Plain HTTP on a LAN address has no Clipboard API.
  await page.addInitScript(() => Object.defineProperty(navigator, 'clipboard', { value: undefined }));
  await page.goto('/');
  await page.getByTestId('file-input').setInputFiles(makeFile('no-clipboard.txt', 100, 'text/plain'));
  const row = page.getByTestId('file-row').filter({ hasText: 'no-clipboard.txt' });
  await row.getByRole('button', { name: 'Share' }).click();
  await row.getByRole('button', { name: 'Create link' }).click();
  const linkField = row.getByLabel('Download link for no-clipboard.txt');
  await expect(linkField).toHaveValue(/X-Amz-Signature=/);
  await row.getByRole('button', { name: 'Copy link' }).click();
  await expect(row.getByRole('status').filter({ hasText: 'press Ctrl+C' })).toBeVisible();
  await expect(linkField).toBeFocused();
  expect(await linkField.evaluate((input: HTMLInputElement) => input.selectionEnd! - input.selectionStart!)).toBe(
    (await linkField.inputValue()).length,
  );
});

test('past five uploaded files the list of uploads folds them into one line, which opens again', async ({ page }) => {
  await page.goto('/');
  const names = Array.from({ length: 7 }, (_, i) => `batch-${i + 1}.txt`);
  await page.getByTestId('file-input').setInputFiles(names.map((name) => makeFile(name, 10, 'text/plain')));
  await expect(page.getByText('7 files uploaded.')).toBeVisible();
  await expect(page.getByTestId('upload')).toHaveCount(0);
  await page.getByRole('button', { name: 'Show them' }).click();
  await expect(page.getByTestId('upload')).toHaveCount(7);
  for (const name of names) await expect(page.getByTestId('file-row').filter({ hasText: name })).toHaveCount(1);
});

import { expect, test, type APIRequestContext } from '@playwright/test';
import { api, MultipartUpload, StaleUploads } from '../contract/api.ts';
import { E2E_MULTIPART_THRESHOLD_BYTES, MULTIPART_PORT } from '../playwright.config.ts';
import { snap } from './support.ts';

test.use({ baseURL: `http://127.0.0.1:${MULTIPART_PORT}` });

/** What the page asks for: uploads started more than a day ago. */
const PAGE_QUERY = `${api.multipartUploads}?olderThanSeconds=86400`;

const staleUploads = async (request: APIRequestContext) =>
  StaleUploads.parse(await (await request.get(`${api.multipartUploads}?olderThanSeconds=0`)).json()).uploads;

test('an upload left unfinished for a day is listed and can be discarded, which aborts it on storage', async ({ page }, testInfo) => {
  const name = 'Holiday film – 2026.mov';
  const created = MultipartUpload.parse(
    await (
      await page.request.post(api.multipartUploads, {
        data: { name, size: E2E_MULTIPART_THRESHOLD_BYTES * 4, type: 'video/quicktime' },
      })
    ).json(),
  );
  expect((await staleUploads(page.request)).map((u) => u.uploadId)).toContain(created.uploadId);

  // Just started, so not offered: it could be going on in another tab.
  const asked = page.waitForResponse((response) => response.url().endsWith(PAGE_QUERY));
  await page.goto('/');
  const answer = StaleUploads.parse(await (await asked).json());
  expect(answer.uploads.map((u) => u.uploadId)).not.toContain(created.uploadId);
  await expect(page.getByRole('heading', { name: 'Files', exact: true })).toBeVisible();
  await expect(page.getByRole('heading', { name: 'Unfinished uploads' })).toHaveCount(0);

  // It cannot be aged: the page's "older than a day" becomes "older than now".
  await page.route(
    (url) => url.pathname === api.multipartUploads && url.searchParams.get('olderThanSeconds') === '86400',
    (route) => {
      const url = new URL(route.request().url());
      url.searchParams.set('olderThanSeconds', '0');
      return route.continue({ url: url.toString() });
    },
  );
  await page.reload();
  const section = page.getByRole('region', { name: 'Unfinished uploads' });
  await expect(section.getByRole('heading', { name: 'Unfinished uploads' })).toBeVisible();
  await expect(section).toContainText('started more than a day ago and never finished');
  const row = section.getByTestId('unfinished-upload').filter({ hasText: name });
  await expect(row.locator('.file__name')).toHaveText(name);
  await expect(row).toContainText(/video\/quicktime · started .+ \(now\)/);
  await snap(page, testInfo, '01-unfinished-listed');

  // From the keyboard: Enter opens the question, focus is on Cancel, Escape keeps the upload.
  const discard = row.getByRole('button', { name: `Discard ${name}` });
  await discard.focus();
  await page.keyboard.press('Enter');
  const dialog = page.getByRole('dialog', { name: 'Discard this upload?' });
  await expect(dialog).toBeVisible();
  await expect(dialog).toContainText(name);
  await expect(dialog.getByRole('button', { name: 'Cancel' })).toBeFocused();
  await snap(page, testInfo, '02-discard-dialog');
  await page.keyboard.press('Escape');
  await expect(dialog).toHaveCount(0);
  await expect(row).toBeVisible();

  await discard.click();
  await dialog.getByRole('button', { name: 'Discard' }).click();
  await expect(row).toHaveCount(0);
  await expect(dialog).toHaveCount(0);
  await snap(page, testInfo, '03-discarded');

  // Really gone from storage, not just from the page.
  expect((await staleUploads(page.request)).map((u) => u.uploadId)).not.toContain(created.uploadId);
  expect(
    (await page.request.get(`${api.multipartParts}?${new URLSearchParams({ key: created.key, uploadId: created.uploadId })}`)).status(),
  ).toBe(404);
});

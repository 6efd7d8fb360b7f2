import { expect, test, type Page } from '@playwright/test';
import { OTHER_MACHINE_HOST, OTHER_MACHINE_MULTIPART_BYTES, OTHER_MACHINE_PORT } from '../playwright.config.ts';
import { downloadThroughBrowser, makeFile, sha256, snap } from './support.ts';

// Postbox on HOST=127.0.0.2 with the embedded store: a browser on "another machine" reaches the page,
// the uploads and the downloads at that one origin. Anything aimed at 127.0.0.1 (where the store
// used to be advertised) or localhost is cut off, so nothing can pass by falling back to them.
const origin = `http://${OTHER_MACHINE_HOST}:${OTHER_MACHINE_PORT}`;
test.use({ baseURL: origin });
// Two uploads, one of three parts, and two downloads: more than the default minute on a busy machine.
test.setTimeout(180_000);

const LOOPBACK_NAMES = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** Shares the file through the UI and returns its download link. */
async function shareLink(page: Page, name: string): Promise<string> {
  const row = page.getByTestId('file-row').filter({ hasText: name });
  await row.getByRole('button', { name: 'Share' }).click();
  await row.getByRole('button', { name: 'Create link' }).click();
  const linkField = row.getByLabel(`Download link for ${name}`);
  await expect(linkField).toHaveValue(/X-Amz-Signature=/);
  return linkField.inputValue();
}

test('from another machine: uploads (form and multipart) and downloads go through the page origin alone', async ({
  page,
  context,
}, testInfo) => {
  const cutOff: string[] = [];
  await context.route(
    (url) => LOOPBACK_NAMES.has(url.hostname),
    (route) => {
      cutOff.push(route.request().url());
      return route.abort('addressunreachable');
    },
  );
  const storageRequests: string[] = [];
  page.on('request', (request) => {
    const url = new URL(request.url());
    if (url.pathname.startsWith('/storage/')) storageRequests.push(`${request.method()} ${url.origin}`);
  });

  await page.goto('/');
  await expect(page.getByRole('banner').getByRole('status')).toHaveText('Storage online (embedded)');

  const small = makeFile('from-the-lan.txt', 20_000, 'text/plain');
  const big = makeFile('big-from-the-lan.bin', 2 * OTHER_MACHINE_MULTIPART_BYTES + 12_345);
  await page.getByTestId('file-input').setInputFiles([small, big]);
  for (const file of [small, big]) {
    await expect(page.getByTestId('upload').filter({ hasText: file.name })).toContainText('Uploaded', { timeout: 60_000 });
    await expect(page.getByTestId('file-row').filter({ hasText: file.name })).toBeVisible();
  }
  await snap(page, testInfo, '01-uploaded-from-another-machine');
  // The form POST and three part PUTs, all to the page's own origin.
  expect(storageRequests).toContain(`POST ${origin}`);
  expect(storageRequests.filter((r) => r === `PUT ${origin}`)).toHaveLength(3);
  expect(storageRequests.every((r) => r.endsWith(` ${origin}`))).toBe(true);

  for (const file of [small, big]) {
    const url = await shareLink(page, file.name);
    expect(url.startsWith(`${origin}/storage/postbox/uploads/`)).toBe(true);
    const { download, bytes } = await downloadThroughBrowser(page, url);
    expect(download.suggestedFilename()).toBe(file.name);
    expect(sha256(bytes)).toBe(sha256(file.buffer));
  }
  await snap(page, testInfo, '02-links');
  expect(cutOff).toEqual([]);
});

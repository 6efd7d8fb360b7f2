import { randomBytes } from 'node:crypto';
import { expect, test } from '@playwright/test';
import { PNG } from 'pngjs';
import { api } from '../contract/api.ts';
import { snap } from './support.ts';

/** An indigo rectangle the page can show (16×16 by default). */
function png(width = 16, height = 16): Buffer {
  const image = new PNG({ width, height });
  for (let i = 0; i < image.data.length; i += 4) image.data.set([79, 70, 229, 255], i);
  return PNG.sync.write(image);
}

test('the own list previews an image under its row, and offers no preview for SVG', async ({ page }, testInfo) => {
  const tag = randomBytes(4).toString('hex');
  const names = { image: `square-${tag}.png`, svg: `draw-${tag}.svg` };
  await page.goto('/');
  await page.getByTestId('file-input').setInputFiles([
    { name: names.image, mimeType: 'image/png', buffer: png() },
    {
      name: names.svg,
      mimeType: 'image/svg+xml',
      buffer: Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'),
    },
  ]);
  const imageRow = page.getByTestId('file-row').filter({ hasText: names.image });
  const svgRow = page.getByTestId('file-row').filter({ hasText: names.svg });
  await expect(imageRow).toBeVisible({ timeout: 30_000 });
  await expect(svgRow).toBeVisible({ timeout: 30_000 });
  await expect(svgRow.getByRole('button', { name: /Preview/ })).toHaveCount(0);

  await imageRow.getByRole('button', { name: `Preview ${names.image}` }).click();
  const image = imageRow.getByTestId('file-preview').getByRole('img', { name: `Preview of ${names.image}` });
  await expect(image).toBeVisible();
  // Decoded, not a broken image: the CSP let it load from the storage.
  await expect.poll(() => image.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth)).toBe(16);
  expect(await image.getAttribute('src')).toMatch(/response-content-disposition=inline/);
  await snap(page, testInfo, 'preview-image');

  await imageRow.getByRole('button', { name: `Close the preview of ${names.image}` }).click();
  await expect(imageRow.getByTestId('file-preview')).toHaveCount(0);
});

test("an image's thumbnail is drawn in the browser, stored beside it, and shown in the list", async ({ page }, testInfo) => {
  const name = `wide-${randomBytes(4).toString('hex')}.png`;
  await page.goto('/');
  await page.getByTestId('file-input').setInputFiles([{ name, mimeType: 'image/png', buffer: png(1000, 500) }]);
  const row = page.getByTestId('file-row').filter({ hasText: name });
  await expect(row).toBeVisible({ timeout: 30_000 });
  const key = await (async () => {
    const list = await (await page.request.get(`${api.files}?limit=1000`)).json();
    return (list.files as { key: string; name: string }[]).find((file) => file.name === name)!.key;
  })();
  // The thumbnail lands in storage after the file (the page posts it once the upload is done).
  const thumbnailAnswer = async () => {
    const { urls } = await (await page.request.post(api.thumbnails, { data: { keys: [key] } })).json();
    const answer = await page.request.get(urls[key] as string);
    return { status: answer.status(), type: answer.headers()['content-type'], size: (await answer.body()).length };
  };
  await expect.poll(async () => (await thumbnailAnswer()).status, { timeout: 15_000 }).toBe(200);
  const stored = await thumbnailAnswer();
  expect(stored.type).toMatch(/^image\/(webp|jpeg)$/);
  expect(stored.size).toBeLessThanOrEqual(64 * 1024);

  await page.reload();
  const thumbnail = page.getByTestId('file-row').filter({ hasText: name }).getByTestId('file-thumbnail');
  await expect(thumbnail).toBeVisible();
  await expect
    .poll(() => thumbnail.evaluate((img: HTMLImageElement) => (img.complete ? `${img.naturalWidth}x${img.naturalHeight}` : '')))
    .toBe('320x160');
  await snap(page, testInfo, 'thumbnail');
});

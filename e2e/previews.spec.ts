import { randomBytes } from 'node:crypto';
import { expect, test } from '@playwright/test';
import { PNG } from 'pngjs';
import { snap } from './support.ts';

/** A 16×16 indigo square the page can show. */
function png(): Buffer {
  const image = new PNG({ width: 16, height: 16 });
  for (let i = 0; i < image.data.length; i += 4) image.data.set([79, 70, 229, 255], i);
  return PNG.sync.write(image);
}

test('the own list previews an image under its row, and offers no preview for SVG', async ({ page }, testInfo) => {
  const tag = randomBytes(4).toString('hex');
  const names = { image: `square-${tag}.png`, svg: `draw-${tag}.svg` };
  await page.goto('/');
  await page.getByTestId('file-input').setInputFiles([
    { name: names.image, mimeType: 'image/png', buffer: png() },
    { name: names.svg, mimeType: 'image/svg+xml', buffer: Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>') },
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

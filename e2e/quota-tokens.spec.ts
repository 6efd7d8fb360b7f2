import { expect, test } from '@playwright/test';
import { E2E_QUOTA_BYTES, QUOTA_PORT } from '../playwright.config.ts';
import { makeFile, snap } from './support.ts';

test.use({ baseURL: `http://127.0.0.1:${QUOTA_PORT}` });

test('the page shows usage against the quota and refuses an upload that does not fit, with the sentence', async ({ page }, testInfo) => {
  await page.goto('/');
  await expect(page.getByText('0 bytes of 100 KiB used')).toBeVisible();
  await page.getByTestId('file-input').setInputFiles(makeFile('most of it.bin', 90 * 1024));
  await expect(page.getByTestId('file-row').filter({ hasText: 'most of it.bin' })).toBeVisible();
  await expect(page.getByText('90 KiB of 100 KiB used')).toBeVisible();
  await expect(page.getByRole('progressbar', { name: '90 KiB of 100 KiB used' })).toHaveAttribute('aria-valuenow', '90');

  await page.getByTestId('file-input').setInputFiles(makeFile('too much.bin', 20 * 1024));
  await expect(page.getByText('This upload needs 20 KiB but you have 10 KiB left of 100 KiB.')).toBeVisible();
  await snap(page, testInfo, '40-quota-near-full');
  expect(E2E_QUOTA_BYTES).toBe(100 * 1024);
});

test('a person makes an API token (shown once), uses it from a script, and revokes it', async ({ page, request }, testInfo) => {
  await page.goto('/');
  const panel = page.getByRole('region', { name: 'API tokens' });
  await panel.getByLabel('Name').fill('nightly backup');
  await panel.getByRole('button', { name: 'Create token' }).click();
  const field = panel.getByLabel('API token nightly backup');
  await expect(field).toHaveValue(/^pbt_/);
  const token = await field.inputValue();
  await expect(panel.getByRole('list', { name: 'Your API tokens' })).toContainText('nightly backup');
  await snap(page, testInfo, '41-api-token-made');

  const used = await request.get('/api/tokens', { headers: { authorization: `Bearer ${token}` } });
  expect(used.status()).toBe(200);

  await panel.getByRole('button', { name: 'Revoke nightly backup' }).click();
  await expect(panel.getByText('No tokens yet.')).toBeVisible();
  // Open mode: an unknown token is the local person again, but it no longer names the token's owner.
  const listed = await request.get('/api/tokens', { headers: { authorization: `Bearer ${token}` } });
  expect((await listed.json()) as unknown).toEqual({ tokens: [] });
});

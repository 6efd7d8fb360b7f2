import { readFile } from 'node:fs/promises';
import { expect, test, type Page } from '@playwright/test';
import { makeFile, sha256, snap } from './support.ts';

async function uploadAndOpenSharing(page: Page, file: ReturnType<typeof makeFile>) {
  await page.goto('/');
  await page.getByTestId('file-input').setInputFiles(file);
  const row = page.getByTestId('file-row').filter({ hasText: file.name });
  await expect(row).toBeVisible({ timeout: 30_000 });
  await row.getByRole('button', { name: `Share ${file.name}`, exact: true }).click();
  await expect(row.getByText('No share links yet.')).toBeVisible();
  return row;
}

test('a share link with a password and a download limit: download, count, revoke', async ({ page }, testInfo) => {
  const file = makeFile('Budget & plans – Grüße 2027.txt', 40_000, 'text/plain');
  const row = await uploadAndOpenSharing(page, file);

  // The owner makes a link: 30 days, a password, at most 3 downloads, a note.
  await row.getByRole('button', { name: 'New share link' }).click();
  await row.getByLabel('Expires after').selectOption({ label: '30 days' });
  await row.getByLabel('Download limit').fill('3');
  await row.getByLabel('Password').fill('open sesame 42');
  await row.getByLabel('Note for the recipient').fill('Hi Sam, the draft we talked about.\nCall me if anything is unclear. <b>Thanks!</b>');
  await snap(page, testInfo, 'share-01-create-form');
  await row.getByRole('button', { name: 'Create share link', exact: true }).click();

  const item = row.getByTestId('share-link');
  await expect(item).toHaveCount(1);
  const urlField = item.getByLabel(`Share link for ${file.name}`);
  await expect(urlField).toHaveValue(/^http:\/\/127\.0\.0\.1:\d+\/s\/[A-Za-z0-9_-]{22}$/);
  await expect(urlField).toBeFocused();
  await expect(item.getByTestId('share-downloads')).toHaveText('0 of 3 downloads');
  await expect(item).toContainText('Active');
  await expect(item).toContainText('Password');
  await expect(item).toContainText('Call me if anything is unclear.');
  const url = await urlField.inputValue();
  await item.getByRole('button', { name: 'Copy share link' }).click();
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(url);
  await expect(item.getByRole('button', { name: 'Share link copied' })).toBeVisible();
  await snap(page, testInfo, 'share-02-owner-list');

  // Someone opens the link in another tab.
  const visitor = await page.context().newPage();
  const opened = await visitor.goto(url);
  expect(opened!.status()).toBe(200);
  await expect(visitor.getByRole('heading', { level: 1 })).toHaveText(file.name);
  await expect(visitor.getByText('Hi Sam, the draft we talked about.')).toBeVisible();
  await expect(visitor.getByText('3 downloads left.')).toBeVisible();
  // The note is the sender's text: markup in it is shown, never run or rendered.
  await expect(visitor.getByText('Call me if anything is unclear. <b>Thanks!</b>')).toBeVisible();
  await expect(visitor.locator('main b, script')).toHaveCount(0);
  await expect(visitor.getByLabel('Password')).toBeFocused();
  await snap(visitor, testInfo, 'share-03-visitor-page');

  // A wrong password is refused, with the reason next to the field.
  await visitor.getByLabel('Password').fill('open sesame 24');
  await visitor.getByRole('button', { name: 'Download' }).click();
  await expect(visitor.getByRole('alert')).toHaveText('That password is not right. Try again.');
  await expect(visitor.getByLabel('Password')).toHaveAttribute('aria-invalid', 'true');
  await snap(visitor, testInfo, 'share-04-wrong-password');

  // The right one downloads the file, under its name, byte for byte.
  await visitor.getByLabel('Password').fill('open sesame 42');
  const [download] = await Promise.all([visitor.waitForEvent('download'), visitor.getByRole('button', { name: 'Download' }).click()]);
  expect(download.suggestedFilename()).toBe(file.name);
  expect(sha256(await readFile(await download.path()))).toBe(sha256(file.buffer));
  // The page says so, with what is left, and no longer says the password was wrong.
  await expect(visitor.getByRole('heading', { level: 1 })).toHaveText('Your download is starting');
  await expect(visitor.getByText('2 downloads left.')).toBeVisible();
  await expect(visitor.getByRole('alert')).toHaveCount(0);
  await snap(visitor, testInfo, 'share-04b-download-started');

  // The owner sees the count go up.
  await page.bringToFront();
  await expect(item.getByTestId('share-downloads')).toHaveText('1 of 3 downloads', { timeout: 15_000 });
  await snap(page, testInfo, 'share-05-owner-count');

  // Revoke it: asked first, then gone from the list.
  await item.getByRole('button', { name: 'Revoke', exact: true }).click();
  await expect(item.getByRole('button', { name: 'Revoke link' })).toBeFocused();
  await snap(page, testInfo, 'share-06-revoke-confirm');
  await item.getByRole('button', { name: 'Revoke link' }).click();
  await expect(row.getByTestId('share-link')).toHaveCount(0);
  await expect(row.getByText('No share links yet.')).toBeVisible();

  // The link now shows a clear 410 page, never the file.
  const revoked = await visitor.goto(url);
  expect(revoked!.status()).toBe(410);
  await expect(visitor.getByRole('heading', { level: 1 })).toHaveText('This link was turned off');
  await expect(visitor.getByText(file.name)).toHaveCount(0);
  await expect(visitor.getByRole('button', { name: 'Download' })).toHaveCount(0);
  await snap(visitor, testInfo, 'share-07-revoked');
  await visitor.close();
});

test('share links work from the keyboard, and a plain link downloads with one button', async ({ page }, testInfo) => {
  const file = makeFile('keyboard-share.bin', 5000);
  const row = await uploadAndOpenSharing(page, file);

  await row.getByRole('button', { name: 'New share link' }).focus();
  await page.keyboard.press('Enter');
  await row.getByLabel('Expires after').focus();
  await page.keyboard.press('End'); // "Never"
  await expect(row.getByLabel('Expires after')).toHaveValue('never');
  // Expires after → Download limit → Password → Note → Create share link
  for (const next of ['Download limit', 'Password', 'Note for the recipient']) {
    await page.keyboard.press('Tab');
    await expect(row.getByLabel(next)).toBeFocused();
  }
  await page.keyboard.press('Tab');
  await expect(row.getByRole('button', { name: 'Create share link', exact: true })).toBeFocused();
  await page.keyboard.press('Enter');
  const item = row.getByTestId('share-link');
  await expect(item.getByLabel(`Share link for ${file.name}`)).toBeFocused();
  await expect(item).toContainText('Never expires');
  const url = await item.getByLabel(`Share link for ${file.name}`).inputValue();

  const visitor = await page.context().newPage();
  await visitor.goto(url);
  await expect(visitor.getByText('This link does not expire.')).toBeVisible();
  await visitor.keyboard.press('Tab');
  await expect(visitor.getByRole('button', { name: 'Download' })).toBeFocused();
  await snap(visitor, testInfo, 'share-08-plain-link');
  const [download] = await Promise.all([visitor.waitForEvent('download'), visitor.keyboard.press('Enter')]);
  expect(sha256(await readFile(await download.path()))).toBe(sha256(file.buffer));
  await visitor.close();

  // Escape hatch for the owner: revoke asks first, and "Keep it" changes nothing.
  await page.bringToFront();
  await item.getByRole('button', { name: 'Revoke', exact: true }).focus();
  await page.keyboard.press('Enter');
  await expect(item.getByRole('button', { name: 'Revoke link' })).toBeFocused();
  await page.keyboard.press('Tab');
  await page.keyboard.press('Enter'); // Keep it
  await expect(item.getByRole('button', { name: 'Revoke', exact: true })).toBeFocused();
  await expect(item.getByTestId('share-downloads')).toHaveText('1 download', { timeout: 15_000 });
});

test("a form on another page cannot use up a download; the link's own page can", async ({ page, browser }) => {
  const file = makeFile('cross-site.txt', 1000, 'text/plain');
  const row = await uploadAndOpenSharing(page, file);
  await row.getByRole('button', { name: 'New share link' }).click();
  await row.getByLabel('Download limit').fill('1');
  await row.getByRole('button', { name: 'Create share link', exact: true }).click();
  const item = row.getByTestId('share-link');
  const url = await item.getByLabel(`Share link for ${file.name}`).inputValue();

  // Another site's page (here: a document of no origin) auto-posting to the link, as CSRF would.
  const other = await (await browser.newContext()).newPage();
  await other.setContent(`<form method="post" action="${url}"><button>Claim your prize</button></form>`);
  const [refused] = await Promise.all([other.waitForNavigation(), other.getByRole('button', { name: 'Claim your prize' }).click()]);
  expect(refused!.status()).toBe(403);
  await expect(other.getByRole('heading', { level: 1 })).toHaveText('Start the download from the link itself');
  await other.close();

  // Nothing was used up: the recipient's own page still downloads.
  const visitor = await page.context().newPage();
  await visitor.goto(url);
  await expect(visitor.getByText('1 download left.')).toBeVisible();
  const [download] = await Promise.all([visitor.waitForEvent('download'), visitor.getByRole('button', { name: 'Download' }).click()]);
  expect(sha256(await readFile(await download.path()))).toBe(sha256(file.buffer));
  await visitor.close();
  await page.bringToFront();
  await expect(item.getByTestId('share-downloads')).toHaveText('1 of 1 download', { timeout: 15_000 });
});

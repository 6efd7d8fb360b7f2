import { expect, test } from '@playwright/test';
import { LOCKED_PASSWORD, LOCKED_PORT } from '../playwright.config.ts';
import { makeFile, snap } from './support.ts';

test.use({ baseURL: `http://127.0.0.1:${LOCKED_PORT}` });

test('a locked Postbox asks for the password, then works, and signs out', async ({ page }, testInfo) => {
  await page.goto('/');
  const password = page.getByLabel('Password');
  await expect(password).toBeFocused();
  await expect(page.getByTestId('file-input')).toHaveCount(0);

  await password.fill('not the password');
  await page.keyboard.press('Enter');
  await expect(page.getByRole('alert')).toHaveText('That password is not right.');
  await snap(page, testInfo, '12-sign-in-wrong');

  await password.fill(LOCKED_PASSWORD);
  await page.keyboard.press('Enter');
  await expect(page.getByText('Drop files here to upload')).toBeVisible();
  // The form is gone: focus goes to the page's first heading, not to nowhere.
  await expect(page.getByRole('heading', { name: 'Send files' })).toBeFocused();
  const cookie = (await page.context().cookies()).find((c) => c.name === 'postbox_session')!;
  expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict', secure: true, path: '/' });

  await page.getByTestId('file-input').setInputFiles(makeFile('locked.txt', 100, 'text/plain'));
  await expect(page.getByTestId('file-row').filter({ hasText: 'locked.txt' })).toBeVisible();
  await snap(page, testInfo, '13-signed-in');

  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page.getByLabel('Password')).toBeVisible();
  await expect(page.getByText('Your session has ended')).toHaveCount(0); // signed out on purpose
  expect((await page.request.get('/api/files')).status()).toBe(401);
  // Someone who copied the cookie before sign-out cannot use it afterwards: sign-out ended the session itself.
  const replayed = await page.request.get('/api/files', { headers: { cookie: `${cookie.name}=${cookie.value}` } });
  expect(replayed.status()).toBe(401);
});

test('when the session ends by itself, the page says so and keeps the uploads to retry after signing in', async ({ page }, testInfo) => {
  await page.goto('/');
  await page.getByLabel('Password').fill(LOCKED_PASSWORD);
  await page.keyboard.press('Enter');
  await expect(page.getByText('Drop files here to upload')).toBeVisible();

  // The session ends (it expired, or the password was changed); the next upload meets a 401.
  await page.context().clearCookies();
  await page.getByTestId('file-input').setInputFiles(makeFile('after-expiry.txt', 100, 'text/plain'));
  await expect(page.getByRole('status').filter({ hasText: 'Your session has ended.' })).toBeVisible();
  await snap(page, testInfo, '14-session-ended');

  await page.getByLabel('Password').fill(LOCKED_PASSWORD);
  await page.keyboard.press('Enter');
  const upload = page.getByTestId('upload').filter({ hasText: 'after-expiry.txt' });
  await upload.getByRole('button', { name: 'Retry after-expiry.txt' }).click();
  await expect(upload).toContainText('Uploaded · 100 bytes');
  await expect(page.getByTestId('file-row').filter({ hasText: 'after-expiry.txt' })).toBeVisible();
});

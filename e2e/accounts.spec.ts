import { expect, test, type Browser, type Page } from '@playwright/test';
import { OIDC_PORT, OIDC_PROVIDER_PORT } from '../playwright.config.ts';
import { makeFile, snap } from './support.ts';

const postboxUrl = `http://127.0.0.1:${OIDC_PORT}`;
const providerUrl = `http://127.0.0.1:${OIDC_PROVIDER_PORT}`;

/** A new browser context signed in as `login` through the provider's own login page. */
async function signIn(browser: Browser, login: string, shots?: { snap: (page: Page, name: string) => Promise<void> }) {
  const context = await browser.newContext({ baseURL: postboxUrl });
  const page = await context.newPage();
  await page.goto('/');
  await expect(page.getByRole('heading', { name: 'Sign in to Postbox' })).toBeVisible();
  await shots?.snap(page, '40-accounts-signed-out');
  await page.getByRole('link', { name: 'Sign in' }).click();
  await expect(page).toHaveURL(new RegExp(`^${providerUrl}/interaction/`));
  await shots?.snap(page, '41-accounts-provider-sign-in');
  await page.locator('input[name="login"]').fill(login);
  await page.locator('input[name="password"]').fill('any password');
  await page.getByRole('button', { name: 'Sign-in' }).click();
  await expect(page).toHaveURL(`${postboxUrl}/`);
  await expect(page.getByText('Drop files here to upload')).toBeVisible();
  return { context, page };
}

test('two people sign in through the provider in two browsers; each sees only their own files', async ({ browser }, testInfo) => {
  test.setTimeout(180_000); // two sign-ins through the provider and two uploads, on a shared machine
  const shots = { snap: (page: Page, name: string) => snap(page, testInfo, name) };
  const alice = await signIn(browser, 'alice', shots);
  await expect(alice.page.locator('.topbar__person')).toHaveText('Alice Example');
  await expect(alice.page.getByText('No files yet')).toBeVisible();
  await snap(alice.page, testInfo, '42-accounts-empty-list');
  const bob = await signIn(browser, 'bob');
  await expect(bob.page.locator('.topbar__person')).toHaveText('Bob Example');

  await alice.page.getByTestId('file-input').setInputFiles(makeFile('alice-report.txt', 200, 'text/plain'));
  await bob.page.getByTestId('file-input').setInputFiles(makeFile('bob-notes.txt', 300, 'text/plain'));
  const aliceRow = alice.page.getByTestId('file-row').filter({ hasText: 'alice-report.txt' });
  const bobRow = bob.page.getByTestId('file-row').filter({ hasText: 'bob-notes.txt' });
  await expect(aliceRow).toBeVisible();
  await expect(bobRow).toBeVisible();

  await alice.page.reload();
  await bob.page.reload();
  await expect(alice.page.getByTestId('file-row').filter({ hasText: 'alice-report.txt' })).toBeVisible();
  await expect(bob.page.getByTestId('file-row').filter({ hasText: 'bob-notes.txt' })).toBeVisible();
  await expect(alice.page.getByTestId('file-row')).toHaveCount(1);
  await expect(bob.page.getByTestId('file-row')).toHaveCount(1);
  await snap(alice.page, testInfo, '43-accounts-alice-files');

  // Signing out of Postbox offers the provider's own sign-out.
  await bob.page.getByRole('button', { name: 'Sign out' }).click();
  await expect(bob.page.getByRole('heading', { name: 'Sign in to Postbox' })).toBeVisible();
  await expect(bob.page.getByRole('link', { name: 'Sign out of your identity provider too' })).toHaveAttribute(
    'href',
    new RegExp(`^${providerUrl}/session/end`),
  );
  await snap(bob.page, testInfo, '44-accounts-signed-out-offer');
  await alice.context.close();
  await bob.context.close();
});

import { expect, test } from '@playwright/test';
import { makeFile, snap } from './support.ts';

test('everything works from the keyboard', async ({ page }, testInfo) => {
  await page.goto('/');
  await expect(page.getByRole('banner').getByRole('status')).toBeVisible();

  // Tab to "Choose files" and open the picker with Enter.
  const chooseFiles = page.getByRole('button', { name: 'Choose files' });
  for (let i = 0; i < 10 && !(await chooseFiles.evaluate((el) => el === document.activeElement)); i++) await page.keyboard.press('Tab');
  await expect(chooseFiles).toBeFocused();
  const [chooser] = await Promise.all([page.waitForEvent('filechooser'), page.keyboard.press('Enter')]);
  await chooser.setFiles(makeFile('keyboard.txt', 100, 'text/plain'));
  const row = page.getByTestId('file-row').filter({ hasText: 'keyboard.txt' });
  await expect(row).toBeVisible();

  // Share: focus the button, Enter, then Enter on "Create link" after tabbing to it.
  await row.getByRole('button', { name: 'Share' }).focus();
  await page.keyboard.press('Enter');
  await row.getByLabel('Link valid for').focus();
  await page.keyboard.press('Tab');
  await expect(row.getByRole('button', { name: 'Create link' })).toBeFocused();
  await page.keyboard.press('Enter');
  await expect(row.getByLabel('Download link for keyboard.txt')).toHaveValue(/^http/);

  // Delete asks first; Escape cancels, and focus starts on the safe choice.
  await row.getByRole('button', { name: 'Delete keyboard.txt' }).focus();
  await page.keyboard.press('Enter');
  const dialog = page.getByRole('dialog', { name: 'Delete this file?' });
  await expect(dialog).toBeVisible();
  await expect(dialog.getByRole('button', { name: 'Cancel' })).toBeFocused();
  await snap(page, testInfo, '10-keyboard-dialog');
  await page.keyboard.press('Escape');
  await expect(dialog).toHaveCount(0);
  await expect(row).toBeVisible();
  // Focus is back where the keyboard user left it.
  await expect(row.getByRole('button', { name: 'Delete keyboard.txt' })).toBeFocused();
});

test('after a file is deleted from the keyboard, focus moves to the next file, not the page', async ({ page }) => {
  await page.goto('/');
  await page.getByTestId('file-input').setInputFiles([makeFile('older.txt', 10, 'text/plain')]);
  await expect(page.getByTestId('file-row').filter({ hasText: 'older.txt' })).toBeVisible();
  await page.getByTestId('file-input').setInputFiles([makeFile('newer.txt', 10, 'text/plain')]);
  const newer = page.getByTestId('file-row').filter({ hasText: 'newer.txt' });
  await expect(newer).toBeVisible();

  await newer.getByRole('button', { name: 'Delete newer.txt' }).focus();
  await page.keyboard.press('Enter');
  const dialog = page.getByRole('dialog', { name: 'Delete this file?' });
  await dialog.getByRole('button', { name: 'Delete' }).focus();
  await page.keyboard.press('Enter');
  await expect(newer).toHaveCount(0);
  // The list is newest first: the row that took its place is the next older file.
  const next = page.getByTestId('file-row').first();
  await expect(next.getByRole('button', { name: /^Share / })).toBeFocused();
});

/**
 * One headless Debian Chromium for the web-tools tests (never a downloaded browser), closed once
 * at the end of the run, and a folder for the screenshots the tests take.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM = process.env.QUOTIENT_CHROMIUM ?? '/usr/bin/chromium';
export const SCREENSHOT_DIR = process.env.QUOTIENT_SCREENSHOTS ?? path.join(os.tmpdir(), 'quotient-web-screenshots');

let browser: Promise<Browser> | undefined;

export function sharedBrowser(): Promise<Browser> {
  browser ??= chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  return browser;
}

export async function closeBrowser(): Promise<void> {
  const b = browser;
  browser = undefined;
  if (b) await (await b).close();
}

export function screenshotPath(name: string): string {
  fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
  return path.join(SCREENSHOT_DIR, `${name}.png`);
}

export const DESKTOP = { width: 1280, height: 860 };
export const PHONE = { width: 390, height: 844 };

/** Signs `page` in through the sign-in form and waits for the summary page. */
export async function signIn(page: Page, base: string, username: string, password: string): Promise<void> {
  await page.goto(`${base}/signin`);
  await page.fill('input[name=username]', username);
  await page.fill('input[name=password]', password);
  await Promise.all([page.waitForURL(`${base}/`), page.click('button[type=submit]')]);
}

/**
 * A fresh browser profile (no cookies, JavaScript off: the pages need none, desktop size) signed
 * in as `username`; its context is pushed onto `contexts` for the test's afterEach to close.
 */
export async function signedInPage(
  contexts: BrowserContext[],
  base: string,
  username: string,
  password: string,
): Promise<{ page: Page; context: BrowserContext }> {
  const context = await (await sharedBrowser()).newContext({ viewport: DESKTOP, javaScriptEnabled: false });
  contexts.push(context);
  const page = await context.newPage();
  await signIn(page, base, username, password);
  return { page, context };
}

/**
 * One headless Debian Chromium for the web-tools tests (never a downloaded browser), closed once
 * at the end of the run, a folder for the screenshots the tests take, and `useBrowserSuite`: the
 * hooks a describe of browser tests against one shared primary needs.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type BrowserContextOptions, type Page } from 'playwright-core';
import type { RunningPrimary } from '../../../primary/boot';
import type { TestDatabase } from '../../utils/databases';
import { sharedPrimary } from '../../utils/primary';

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

// Only mocha loads this module, and it does so outside any describe: this is a root hook, run
// once at the end of the run however many files share the browser.
after(closeBrowser);

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

export interface BrowserSuite {
  /** The describe's shared primary (tables emptied before each test). */
  readonly primary: RunningPrimary;
  /** Its web address, `http://127.0.0.1:<port>`. */
  readonly base: string;
  /**
   * A page in a fresh browser profile: no cookies, JavaScript off (the pages need none), desktop
   * size, unless `options` say otherwise; the profile is closed after the test.
   */
  newPage(options?: BrowserContextOptions): Promise<Page>;
  /** A fresh profile's page signed in as `username` through the sign-in form, on the summary page. */
  signedIn(username: string, password: string): Promise<Page>;
  /** Stops the primary and starts it again on the same database. */
  restart(): Promise<void>;
}

/**
 * Call inside a describe: starts one primary for it (`extra` config and `opts` as for
 * `sharedPrimary`), and closes the browser profiles each test opened. Hooks the describe adds
 * afterwards (creating its users, say) run after the tables are emptied.
 */
export function useBrowserSuite(t: TestDatabase, extra?: Parameters<typeof sharedPrimary>[1], opts?: Parameters<typeof sharedPrimary>[2]): BrowserSuite {
  const shared = sharedPrimary(t, extra, opts);
  const contexts: BrowserContext[] = [];
  afterEach(async () => {
    for (const c of contexts.splice(0)) await c.close();
  });
  const newPage = async (options: BrowserContextOptions = {}): Promise<Page> => {
    const context = await (await sharedBrowser()).newContext({ viewport: DESKTOP, javaScriptEnabled: false, ...options });
    contexts.push(context);
    return context.newPage();
  };
  return {
    get primary() {
      return shared.primary;
    },
    get base() {
      return shared.base;
    },
    newPage,
    async signedIn(username, password) {
      const page = await newPage();
      await signIn(page, shared.base, username, password);
      return page;
    },
    restart: shared.restart,
  };
}

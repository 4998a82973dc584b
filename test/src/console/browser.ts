import { chromium, type BrowserContext, type Page } from 'playwright-core';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { repoRoot, tokens } from '../api/app';

/** Debian's Chromium (`apt-get install chromium`, installed by .ci/run when missing). */
export const CHROMIUM = process.env.RUNBOOKS_CHROMIUM ?? '/usr/bin/chromium';

/** Written by each run, git-ignored: one PNG per page the tests visit. */
export const SCREENSHOTS = path.join(repoRoot, 'test-results', 'console');

export interface ConsoleBrowser {
  context: BrowserContext;
  /**
   * Script errors and console errors of every page (a CSP refusal is one); the 4xx answers the
   * tests provoke on purpose are left out (Chromium logs each failed request).
   */
  errors: string[];
  /** A new tab signed in as `who` (each tab has its own sessionStorage, so its own person). */
  signedIn(who: keyof typeof tokens, url: string): Promise<Page>;
  screenshot(page: Page, name: string): Promise<void>;
  close(): Promise<void>;
}

/** Chromium headless, with a fresh profile, pointed at the API's console on `baseUrl`. */
export async function openConsoleBrowser(baseUrl: string): Promise<ConsoleBrowser> {
  const userDataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'console-chromium-'));
  await fs.mkdir(SCREENSHOTS, { recursive: true });
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
    baseURL: baseUrl,
    viewport: { width: 1280, height: 900 },
    timezoneId: 'UTC',
    locale: 'en-GB',
  });
  context.setDefaultTimeout(30_000);
  const errors: string[] = [];
  context.on('page', (page) => {
    page.on('pageerror', (error) => errors.push(`${page.url()}: ${error.message}`));
    page.on('console', (message) => {
      if (message.type() === 'error' && !message.text().startsWith('Failed to load resource'))
        errors.push(`${page.url()}: ${message.text()}`);
    });
  });

  return {
    context,
    errors,
    async signedIn(who, url) {
      const page = await context.newPage();
      await page.goto(url);
      // A deep link opens the sign-in page first and stays on its URL.
      await page.getByLabel('Service token').fill(tokens[who]);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('button', { name: 'Sign out' }).waitFor();
      return page;
    },
    async screenshot(page, name) {
      await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: true });
    },
    async close() {
      await context.close();
      await fs.rm(userDataDir, { recursive: true, force: true });
    },
  };
}

/** The API listening on a free loopback port; returns its base URL. */
export async function listen(app: {
  listen(port: number, host: string): Promise<unknown>;
  getHttpServer(): { address(): unknown };
}): Promise<string> {
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as { port: number };
  return `http://127.0.0.1:${port}`;
}

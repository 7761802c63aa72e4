// Debian's Chromium driven by playwright-core (no browser download): launch, contexts, and the
// guards every page of the tests gets — dialogs (alert/confirm/prompt) and Content-Security-
// Policy violation events are recorded for the XSS checks, page errors and console errors too.
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';

export const CHROMIUM = process.env.CALLVAULT_CHROMIUM || '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-dev-shm-usage', '--disable-background-networking',
  '--disable-gpu', '--disable-component-update', '--no-first-run'];
// The page's local time zone in every context: not UTC, so that a filter converted without
// the browser's offset shows different calls than the API's answer.
export const TIMEZONE = 'America/New_York';

let playwright = null;
function loadPlaywright() {
  if (playwright) return playwright;
  const require = createRequire(import.meta.url);
  try {
    playwright = require('playwright-core');
  } catch (e) {
    throw new Error('playwright-core is not installed: run `npm ci --prefix tests` (scripts/test.sh does) — ' + e.message);
  }
  return playwright;
}

// Chromium, or an Error naming the fix. Never a skip: a machine without it fails the test.
export async function launchBrowser() {
  if (!fs.existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} not found: the browser tests need Debian's chromium ` +
      '(scripts/install-deps.sh installs chromium and fonts-dejavu-core)');
  }
  const { chromium } = loadPlaywright();
  return chromium.launch({ executablePath: CHROMIUM, args: ARGS, timeout: 30000 });
}

// The guards of every context of the run (a last test checks them all).
export const allGuards = [];

// A fresh context (own cookies) with the guards installed. Returns {context, guards} where
// guards = {dialogs: [...], csp: [...], pageErrors: [...], consoleErrors: [...]}.
export async function newContext(browser, { viewport = { width: 1366, height: 768 }, baseURL } = {}) {
  const context = await browser.newContext({
    viewport, baseURL, timezoneId: TIMEZONE, locale: 'en-US', acceptDownloads: true,
  });
  context.setDefaultTimeout(10000);
  context.setDefaultNavigationTimeout(15000);
  const guards = { dialogs: [], csp: [], pageErrors: [], consoleErrors: [] };
  allGuards.push(guards);
  await context.exposeBinding('__cvCspViolation', (_source, v) => { guards.csp.push(v); });
  await context.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      window.__cvCspViolation({ directive: e.violatedDirective, blocked: e.blockedURI, sample: e.sample,
        url: e.documentURI });
    }, true);
  });
  context.on('page', (page) => watchPage(page, guards));
  return { context, guards };
}

function watchPage(page, guards) {
  page.on('dialog', async (d) => {
    guards.dialogs.push({ type: d.type(), message: d.message(), url: page.url() });
    await d.dismiss().catch(() => {});
  });
  page.on('pageerror', (e) => guards.pageErrors.push({ message: String(e && e.message), url: page.url() }));
  page.on('console', (m) => {
    if (m.type() === 'error') guards.consoleErrors.push({ text: m.text(), url: page.url() });
  });
}

// Waits for the page's first (or next) rendered data load: body[data-ready="1"].
export async function ready(page, timeout = 10000) {
  await page.waitForSelector('body[data-ready="1"]', { state: 'attached', timeout });
}

// Saves a full-page screenshot under `dir` and prints its path.
export async function screenshot(page, dir, name) {
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, name + '.png');
  await page.screenshot({ path: file, fullPage: true, timeout: 15000 });
  console.log(`screenshot: ${file}`);
  return file;
}

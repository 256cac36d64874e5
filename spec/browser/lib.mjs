// What the browser scenarios share: headless Chromium (Debian's, driven by
// playwright-core), a page on the dashboard, small waits.
import { chromium } from 'playwright-core';
import { existsSync } from 'node:fs';

export function chromiumPath() {
  for (const p of [process.env.CHROMIUM, '/usr/bin/chromium', '/usr/bin/chromium-browser']) {
    if (p && existsSync(p)) return p;
  }
  throw new Error('no Chromium: apt-get install chromium (scripts/deps)');
}

export async function launch() {
  return chromium.launch({
    executablePath: chromiumPath(),
    headless: true,
    // root in CI: Chromium's sandbox needs an unprivileged user
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run'],
  });
}

// A page on the dashboard at url (the one-time token URL luasible printed,
// or the plain one in a context that has the cookie). Console errors and
// page errors are collected in page.errors.
export async function open(context, url) {
  const page = await context.newPage();
  page.errors = [];
  page.on('pageerror', (e) => page.errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => { if (m.type() === 'error') page.errors.push(`console: ${m.text()}`); });
  await page.goto(url, { waitUntil: 'load' });
  await live(page);
  return page;
}

// Wait until the page has loaded the run and its WebSocket is open.
export async function live(page, ms = 30000) {
  try {
    await page.waitForFunction(() => window.luasible && window.luasible.store.seq > 0
      && ['live', 'finished'].includes(window.luasible.state), null, { timeout: ms });
  } catch (e) {
    const seen = await page.evaluate(() => (window.luasible
      ? { seq: window.luasible.store.seq, state: window.luasible.state } : 'no window.luasible')).catch(String);
    throw new Error(`the page did not go live in ${ms} ms: ${JSON.stringify(seen)} ${page.errors.join('; ')}`);
  }
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Poll fn() until it returns a truthy value (or throw after ms).
export async function until(what, fn, ms = 30000, every = 100) {
  const t0 = Date.now();
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() - t0 > ms) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(every);
  }
}

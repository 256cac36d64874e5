// The browser half of spec/integration/browser_log_spec.lua: the dashboard
// of a finished run's log (`luasible serve LOG`) with 500 hosts, one of which
// printed 200,000 lines: the grid and the matrix render only what is in view,
// the terminal holds a window of the output and fetches older pages on
// scroll-up and newer ones on scroll-down, search jumps into the middle.
// Records what the page shows into --out (JSON); the spec asserts.
//   node spec/browser/paging.mjs --url URL --out FILE --big HOST --lines N [--shots DIR]
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { launch, open, until, sleep } from './lib.mjs';

const { values: opt } = parseArgs({ options: {
  url: { type: 'string' }, out: { type: 'string' }, big: { type: 'string' }, lines: { type: 'string' },
  shots: { type: 'string' },
} });
const res = { steps: [] };
const tv = (page) => page.evaluate(() => {
  const t = window.luasible.term;
  const text = t.text();
  return { from: t.from, n: t.lines.length, total: t.total, attached: t.attached, busy: t.busy,
    first: text[0], last: text[text.length - 1], rows: text.length,
    firstSeq: t.lines[0] && t.lines[0].data, lastSeq: t.lines[t.lines.length - 1] && t.lines[t.lines.length - 1].data };
});
// the big host's line numbers in the terminal's buffer, checked consecutive
const numbersOk = (page) => page.evaluate(() => {
  const ns = window.luasible.term.text().map((l) => /^big line (\d+)$/.exec(l)).filter(Boolean).map((m) => Number(m[1]));
  for (let i = 1; i < ns.length; i++) if (ns[i] !== ns[i - 1] + 1) return { ok: false, at: i, a: ns[i - 1], b: ns[i] };
  return { ok: true, n: ns.length, first: ns[0], last: ns[ns.length - 1] };
});

// frame gaps while fn runs (requestAnimationFrame in the page)
async function frames(page, fn) {
  await page.evaluate(() => {
    window.__gaps = [];
    let last = performance.now();
    const f = (t) => { window.__gaps.push(t - last); last = t; if (window.__gaps.length < 100000) window.__raf = requestAnimationFrame(f); };
    window.__raf = requestAnimationFrame(f);
  });
  await fn();
  return page.evaluate(() => { cancelAnimationFrame(window.__raf); return window.__gaps.sort((a, b) => a - b); });
}

const browser = await launch();
let page = null;
try {
  const ctx = await browser.newContext({ viewport: { width: 1360, height: 820 } });
  const t0 = Date.now();
  page = await open(ctx, opt.url);
  await until('the tiles', async () => (await page.$$('.tile')).length > 0);
  res.first_tiles_ms = Date.now() - t0;
  await until('the end of the log', () => page.evaluate(() => window.luasible.store.finished), 60000);
  res.hosts = await page.evaluate(() => window.luasible.store.hosts.size);
  res.tiles_in_dom = (await page.$$('.tile')).length;
  if (opt.shots) await page.screenshot({ path: `${opt.shots}/dashboard-grid-500.png` });
  // scroll the grid to its end: the last host's tile is made, the first's is gone
  const gaps = await frames(page, async () => {
    for (let i = 0; i < 20; i++) { await page.mouse.move(600, 400); await page.mouse.wheel(0, 400); await sleep(30); }
    await page.evaluate(() => { const g = document.querySelector('#grid-view'); g.scrollTop = g.scrollHeight; });
    await sleep(300);
  });
  res.scroll_frames = { n: gaps.length, p50: gaps[Math.floor(gaps.length / 2)], p95: gaps[Math.floor(gaps.length * 0.95)] };
  res.tiles_after_scroll = await page.$$eval('.tile', (ts) => ts.map((t) => t.dataset.host));
  res.last_host = await page.evaluate(() => window.luasible.store.order[window.luasible.store.order.length - 1]);
  res.steps.push('grid');

  await page.click('[data-view="matrix"]');
  await sleep(300);
  res.matrix_rows_in_dom = (await page.$$('.m-row')).length;
  if (opt.shots) await page.screenshot({ path: `${opt.shots}/dashboard-matrix.png` });
  await page.click('[data-view="grid"]');
  await page.evaluate(() => { document.querySelector('#grid-view').scrollTop = 0; });
  await sleep(300);
  res.steps.push('matrix');

  // the big host's terminal: the last page, then older pages on scroll-up
  await page.click(`.tile[data-host="${opt.big}"]`);
  await until('the last page', async () => (await tv(page)).n > 0 && (await tv(page)).busy === 0, 30000);
  res.open = await tv(page);
  res.open_numbers = await numbersOk(page);
  res.up = [];
  for (let i = 0; i < 7; i++) {
    const before = (await tv(page)).from;
    await page.evaluate(() => window.luasible.term.term.scrollToTop());
    await until('an older page', async () => { const s = await tv(page); return s.busy === 0 && s.from < before; }, 30000);
    res.up.push({ ...(await tv(page)), numbers: await numbersOk(page) });
  }
  res.steps.push('older');
  // back down: newer pages until the window reaches the end again
  res.down = [];
  for (let i = 0; i < 12 && !(await tv(page)).attached; i++) {
    const before = (await tv(page)).from + (await tv(page)).n;
    await page.evaluate(() => window.luasible.term.term.scrollToBottom());
    await until('a newer page', async () => { const s = await tv(page); return s.busy === 0 && s.from + s.n > before; }, 30000);
    res.down.push(await tv(page));
  }
  res.bottom = { ...(await tv(page)), numbers: await numbersOk(page) };
  res.steps.push('newer');
  await page.keyboard.press('Escape');

  // search for a line in the middle: the terminal opens there
  const want = `big line ${String(Math.floor(Number(opt.lines) / 2) + 3).padStart(7, '0')}`;
  res.want = want;
  await page.fill('#search', want);
  await page.press('#search', 'Enter');
  await until('the hit', async () => (await page.$$('#search-hits li')).length > 0, 30000);
  res.hits = await page.$$eval('#search-hits li', (ls) => ls.map((l) => ({ host: l.dataset.host, line: Number(l.dataset.line) })));
  await page.click('#search-hits li');
  await until('the terminal at the hit', async () => (await page.evaluate(() => window.luasible.term.term.getSelection()))
    .includes(want), 30000);
  res.jump = { ...(await tv(page)), selection: await page.evaluate(() => window.luasible.term.term.getSelection()) };
  res.steps.push('search');
  res.errors = page.errors;
} catch (e) {
  res.failure = String(e && e.stack || e);
  if (page) res.failure += `\nerrors: ${page.errors.join('; ')}`;
} finally {
  await browser.close();
  writeFileSync(opt.out, JSON.stringify(res, null, 1));
}

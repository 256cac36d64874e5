// The browser half of spec/integration/browser_spec.lua: a real play runs
// on the test hosts with `luasible run --serve`; this opens its dashboard in
// headless Chromium and records what the page shows, as the run goes, into
// a JSON file that the spec asserts on. Nothing here decides pass or fail.
//   node spec/browser/live.mjs --url URL --out FILE --ready FILE --hosts a,b,c [--shots DIR]
// --ready: written once the page is live (the spec then lets the play go on).
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { launch, live, open, until, sleep } from './lib.mjs';

const { values: opt } = parseArgs({ options: {
  url: { type: 'string' }, out: { type: 'string' }, ready: { type: 'string' },
  hosts: { type: 'string' }, shots: { type: 'string' },
} });
const hosts = opt.hosts.split(',');
const res = { steps: [] };
const step = (s) => { res.steps.push(s); };

// In the page: record every change of each tile's status and progress bar
// as the DOM shows it (not the model): window.__samples[host].
function sampler() {
  window.__samples = window.__samples || {};
  const s = window.__samples;
  const look = () => {
    for (const t of document.querySelectorAll('.tile')) {
      const h = t.dataset.host;
      const e = (s[h] = s[h] || { status: [], pct: [] });
      const st = t.dataset.status;
      if (e.status[e.status.length - 1] !== st) e.status.push(st);
      const bar = t.querySelector('.t-bar');
      const pct = bar && !bar.hidden && bar.dataset.pct !== '' ? Number(bar.dataset.pct) : null;
      if (pct !== null && e.pct[e.pct.length - 1] !== pct) e.pct.push(pct);
    }
  };
  new MutationObserver(look).observe(document.body, { subtree: true, childList: true, attributes: true,
    attributeFilter: ['data-status', 'data-pct', 'hidden'] });
  look();
}

const termText = (page) => page.evaluate(() => window.luasible.term.text());
const counted = (lines) => lines.filter((l) => / line \d{4}/.test(l));
const hostState = (page) => page.evaluate(() => [...window.luasible.store.hosts.values()]
  .map((h) => ({ name: h.name, status: h.status, task: h.task, running: h.running })));
const matrixOf = (page) => page.evaluate(() => {
  const { store } = window.luasible;
  const out = {};
  for (const [h, m] of store.matrix) {
    out[h] = {};
    for (const t of store.tasks) out[h][t.name] = m.get(String(t.id)) ?? null;
  }
  return out;
});

const browser = await launch();
let page = null;
try {
  const ctx = await browser.newContext({ viewport: { width: 1360, height: 820 } });
  page = await open(ctx, opt.url);
  res.url_after_login = page.url();
  res.cookies = (await ctx.cookies()).map((c) => ({ name: c.name, httpOnly: c.httpOnly, sameSite: c.sameSite }));
  await page.evaluate(sampler);
  writeFileSync(opt.ready, 'ready\n');
  step('live');

  await until('a tile for every host', async () => (await page.$$('.tile')).length >= hosts.length);
  res.tiles = await page.$$eval('.tile', (ts) => ts.map((t) => t.dataset.host).sort());
  step('tiles');

  // a host's terminal while the count task prints
  await until('the count task', async () => (await hostState(page)).some((h) => h.task === 'count' && h.running), 60000);
  await page.click(`.tile[data-host="${hosts[0]}"]`);
  await until('30 counted lines in the terminal', async () => counted(await termText(page)).length >= 30, 30000);
  res.term_live = await termText(page);
  res.term_title = await page.$eval('#term-title', (e) => e.textContent);
  if (opt.shots) await page.screenshot({ path: `${opt.shots}/dashboard-terminal.png` });
  step('terminal');

  // a reload mid-run
  const before = { lines: counted(await termText(page)).length, matrix: await matrixOf(page),
    finished: await page.evaluate(() => window.luasible.store.finished) };
  await page.reload();
  await live(page);
  await page.evaluate(sampler);
  res.reload = { before, finished: await page.evaluate(() => window.luasible.store.finished),
    hosts: await hostState(page), matrix: await matrixOf(page),
    tiles: await page.$$eval('.tile', (ts) => ts.map((t) => t.dataset.host).sort()) };
  await page.click(`.tile[data-host="${hosts[0]}"]`);
  await until('the terminal again', async () => counted(await termText(page)).length >= before.lines, 30000);
  res.reload.term = await termText(page);
  step('reload');

  // scrolled up, the terminal stops following (the view stays where the
  // user put it as lines arrive); back at the bottom, it follows again
  const view = () => page.evaluate(() => {
    const t = window.luasible.term;
    const b = t.term.buffer.active;
    return { y: b.viewportY, base: b.baseY, lines: t.lines.length,
      follow: document.querySelector('#term-panel').dataset.follow };
  });
  await until('lines above the view', async () => (await view()).base > 10, 30000);
  await page.evaluate(() => window.luasible.term.term.scrollLines(-5));
  await sleep(150);
  const up0 = await view();
  await sleep(800);
  res.follow = { up0, up1: await view() };
  await page.evaluate(() => window.luasible.term.term.scrollToBottom());
  await sleep(400);
  res.follow.down = await view();

  // the socket dropped three times while the terminal is open: the page
  // reconnects with since= its last seq and the terminal goes on, no line
  // lost or doubled, up to the task's last line
  res.drops = { before: await page.evaluate(() => window.luasible.conn.reconnects) };
  for (let i = 0; i < 3; i++) {
    await page.evaluate(() => window.luasible.conn.ws && window.luasible.conn.ws.close());
    await sleep(200);
    await live(page);
    await sleep(400);
  }
  res.drops.after = await page.evaluate(() => window.luasible.conn.reconnects);
  await until('the count task\'s end on the first host', async () => (await hostState(page))
    .some((h) => h.name === hosts[0] && h.task !== 'count'), 60000);
  await sleep(300);
  res.drops.term = await termText(page);
  await page.keyboard.press('Escape');
  step('drops');

  // the progress bars of the build task
  await until('the build task', async () => (await hostState(page)).some((h) => h.task === 'build'), 60000);
  await sleep(1500);
  if (opt.shots) await page.screenshot({ path: `${opt.shots}/dashboard-grid.png` });
  step('build');

  // the end: the recap
  await until('the recap', () => page.evaluate(() => !document.querySelector('#recap-panel').hidden), 180000);
  res.recap = await page.$eval('#recap', (e) => e.textContent);
  res.samples = await page.evaluate(() => window.__samples);
  res.final = await hostState(page);
  res.summary = await page.$$eval('#counts .chip', (cs) => Object.fromEntries(cs.map((c) => [c.dataset.status,
    Number(c.querySelector('b').textContent)])));
  step('recap');

  // search: the server's, over the whole log
  await page.fill('#search', 'line 0042');
  await page.press('#search', 'Enter');
  await until('search hits', async () => (await page.$$('#search-hits li')).length >= hosts.length, 20000);
  res.search = await page.$$eval('#search-hits li', (ls) => ls.map((l) => ({ host: l.dataset.host,
    line: Number(l.dataset.line), task: l.querySelector('.h-task').textContent, data: l.querySelector('.h-data').textContent })));
  await page.click(`#search-hits li[data-host="${hosts[1]}"]`);
  await until('the terminal at the hit', async () => (await page.evaluate(() => window.luasible.term.term.getSelection()))
    .includes('line 0042'), 20000);
  res.search_jump = { title: await page.$eval('#term-title', (e) => e.textContent),
    selection: await page.evaluate(() => window.luasible.term.term.getSelection()) };
  await page.keyboard.press('Escape');
  await page.click('#search-close');
  step('search');

  // the matrix, and one cell's output
  await page.click('[data-view="matrix"]');
  res.matrix = await matrixOf(page);
  res.matrix_dom = await page.$$eval('.m-row', (rs) => Object.fromEntries(rs.map((r) => [r.dataset.host,
    [...r.querySelectorAll('.cell')].map((c) => c.dataset.status)])));
  const countId = await page.evaluate(() => String(window.luasible.store.tasks.find((t) => t.name === 'count').id));
  await page.click(`.m-row[data-host="${hosts[1]}"] .cell[data-task="${countId}"]`);
  await until('the cell\'s output', async () => counted(await termText(page)).length >= 100, 20000);
  res.cell = { title: await page.$eval('#term-title', (e) => e.textContent), term: await termText(page) };
  step('matrix');

  // filters: a glob and a status
  await page.keyboard.press('Escape');
  await page.click('[data-view="grid"]');
  await page.fill('#filter-host', `${hosts[0]},${hosts[2]}`);
  await sleep(300);
  res.filter_glob = await page.$$eval('.tile', (ts) => ts.map((t) => t.dataset.host).sort());
  await page.fill('#filter-host', '');
  await page.selectOption('#filter-status', 'failed');
  await sleep(300);
  res.filter_status = await page.$$eval('.tile', (ts) => ts.map((t) => t.dataset.host).sort());
  step('filters');
  res.errors = page.errors;
} catch (e) {
  res.failure = String(e && e.stack || e);
  // what the page knew when it failed
  if (page) {
    res.diag = await page.evaluate(() => ({ seq: window.luasible.store.seq, state: window.luasible.state,
      finished: window.luasible.store.finished, frames: window.luasible.conn.frames,
      reconnects: window.luasible.conn.reconnects })).catch((x) => String(x));
    res.errors = page.errors;
    res.failure += `\npage: ${JSON.stringify(res.diag)} ${JSON.stringify(res.errors)}`;
  }
} finally {
  await browser.close();
  writeFileSync(opt.out, JSON.stringify(res, null, 1));
}

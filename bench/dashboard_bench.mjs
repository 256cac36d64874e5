// The browser half of bench/dashboard_bench.lua: TABS tabs of the dashboard
// at URL (the token logs in once, its cookie serves all; a browser context
// each), each measuring, in the page, how long after a line left the remote
// command it appeared: every output line carries the command's clock
// ("T<epoch seconds> host n"); the page's clock is performance.timeOrigin +
// performance.now(), read in the animation frame that painted the line
// (after the DOM update of the tiles; requestAnimationFrame batching is the
// page's own). Written to OUT: per tab the delays' histogram (1 ms buckets)
// and the number of lines, events and frames seen.
//   node bench/dashboard_bench.mjs --url URL --tabs 3 --out FILE --ready FILE
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { launch, open, until } from '../spec/browser/lib.mjs';

const { values: opt } = parseArgs({ options: {
  url: { type: 'string' }, tabs: { type: 'string', default: '3' }, out: { type: 'string' },
  ready: { type: 'string' }, open: { type: 'string', default: '' },
} });

function measure(openHost) {
  const L = window.luasible;
  const m = { hist: new Uint32Array(60000), recv: new Uint32Array(60000), lines: 0, events: 0, frames: 0, over: 0,
    max: 0 };
  window.__bench = m;
  let pend = [];
  L.store.listeners.add((ev) => {
    m.events++;
    if (ev.type !== 'stdout' || typeof ev.data !== 'string' || ev.data[0] !== 'T') return;
    const t = parseFloat(ev.data.slice(1, 20)) * 1000;
    if (!(t > 0)) return;
    pend.push(t);
    // when it reached the page (the WebSocket frame's events are applied as it comes)
    const r = Math.max(0, Math.round(performance.timeOrigin + performance.now() - t));
    if (r < m.recv.length) m.recv[r]++;
  });
  L.afterDraw.add(() => {
    m.frames++;
    if (pend.length === 0) return;
    const now = performance.timeOrigin + performance.now();
    for (const t of pend) {
      const d = Math.max(0, Math.round(now - t));
      if (d < m.hist.length) m.hist[d]++; else m.over++;
      if (d > m.max) m.max = d;
    }
    m.lines += pend.length;
    pend = [];
  });
  if (openHost) L.term.open(openHost);
}

function collect() {
  const m = window.__bench;
  return { hist: Array.from(m.hist), recv: Array.from(m.recv), lines: m.lines, events: m.events, frames: m.frames, over: m.over,
    max: m.max, seq: window.luasible.store.seq, finished: window.luasible.store.finished,
    reconnects: window.luasible.conn.reconnects };
}

const browser = await launch();
const res = { tabs: [] };
try {
  // a browser context (a window of its own) per tab: the first logs in with
  // the token, the others get its cookie, as tabs of one browser share it
  const view = { viewport: { width: 1360, height: 820 } };
  const ctx = await browser.newContext(view);
  const first = await open(ctx, opt.url);
  const pages = [first];
  const base = new URL(first.url());
  for (let i = 1; i < Number(opt.tabs); i++) {
    const c = await browser.newContext(view);
    await c.addCookies(await ctx.cookies());
    pages.push(await open(c, base.href));
  }
  // the first tab also follows one host's terminal (the heaviest view)
  for (const [i, p] of pages.entries()) await p.evaluate(measure, i === 0 ? opt.open || null : null);
  writeFileSync(opt.ready, 'ready\n');
  // what each tab has, every 5 s, on stdout (the .node file): a stall shows
  const tick = setInterval(async () => {
    const seen = [];
    for (const p of pages) {
      seen.push(await p.evaluate(() => ({ seq: window.luasible.store.seq, state: window.luasible.state,
        frames: window.luasible.conn.frames, reconnects: window.luasible.conn.reconnects })).catch(String));
    }
    console.log(new Date().toISOString(), JSON.stringify(seen));
  }, 5000);
  await until('the end of the run', () => first.evaluate(() => window.luasible.store.finished), 900000, 500);
  clearInterval(tick);
  // the last frames
  await new Promise((r) => setTimeout(r, 500));
  for (const p of pages) res.tabs.push({ ...(await p.evaluate(collect)), errors: p.errors });
} catch (e) {
  res.failure = String(e && e.stack || e);
} finally {
  await browser.close();
  writeFileSync(opt.out, JSON.stringify(res));
}

// The recap at the end, as the CLI prints it (render/terminal.lua): the
// header, then one line per host, sorted, names padded to the longest,
// "ok=N    changed=N ..." with each count left-aligned in 4 columns, counts
// above zero in the status's colour.
import { duration, el } from './util.js';

const COLS = [['ok', 'ok'], ['changed', 'changed'], ['unreachable', 'unreachable'], ['failed', 'failed'],
  ['skipped', 'skipped'], ['ignored', 'ignored']];

// the rescued column when a block rescued a host, as the terminal shows it
const RESCUED = ['rescued', 'skipped'];

export function recapLines(recap) {
  const hosts = Object.keys(recap).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const cols = hosts.some((h) => recap[h] && recap[h].rescued > 0)
    ? [...COLS.slice(0, 5), RESCUED, COLS[5]] : COLS;
  const w = hosts.reduce((m, h) => Math.max(m, new TextEncoder().encode(h).length), 0);
  return hosts.map((h) => {
    const r = recap[h] || {};
    const pad = ' '.repeat(w - new TextEncoder().encode(h).length);
    return { host: h, pad, cols: cols.map(([k, cls]) => ({ k, cls, v: r[k] ?? 0 })) };
  });
}

export function renderRecap(pre, recap, elapsed) {
  const head = `PLAY RECAP [${elapsed !== null && elapsed !== undefined ? duration(elapsed) : ''}] `;
  const rows = [el('span', { class: 'r-head' }, head + '*'.repeat(Math.max(3, 80 - head.length))), '\n'];
  for (const line of recapLines(recap)) {
    const parts = [el('span', { class: 'r-host' }, line.host), `${line.pad} : `];
    line.cols.forEach((c, i) => {
      const s = `${c.k}=${String(c.v).padEnd(4)}`;
      parts.push(c.v > 0 ? el('span', { class: `r-${c.cls}` }, s) : s);
      if (i < line.cols.length - 1) parts.push(' ');
    });
    rows.push(el('span', { class: 'r-line', dataset: { host: line.host } }, ...parts), '\n');
  }
  pre.replaceChildren(...rows);
}

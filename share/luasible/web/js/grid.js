// The grid of host tiles, virtualised: tiles have one size, the grid knows
// how many fit in a row, and only the rows in view (and one above and below)
// exist in the DOM. A frame updates only the tiles whose host changed, and
// only the fields of a tile that changed.
import { el } from './util.js';

const TILE_W = 232;   // px, with the gap
const TILE_H = 92;
const OVERSCAN = 1;   // rows above and below the view

export class Grid {
  constructor(scroller, store, onOpen) {
    this.scroller = scroller;
    this.store = store;
    this.inner = el('div', { class: 'grid-inner' });
    scroller.append(this.inner);
    this.hosts = [];            // the visible (filtered) host names, in order
    this.tiles = new Map();     // host -> { el, shown: {...} }
    this.free = [];
    this.cols = 1;
    this.range = [0, -1];
    scroller.addEventListener('scroll', () => this.layout(false), { passive: true });
    new ResizeObserver(() => this.layout(true)).observe(scroller);
    this.inner.addEventListener('click', (e) => {
      const t = e.target.closest('.tile');
      if (t) onOpen(t.dataset.host);
    });
  }

  setHosts(names) {
    this.hosts = names;
    this.index = new Map(names.map((n, i) => [n, i]));
    this.layout(true);
  }

  layout(force) {
    const width = this.scroller.clientWidth || TILE_W;
    const cols = Math.max(1, Math.floor(width / TILE_W));
    const rows = Math.ceil(this.hosts.length / cols);
    this.inner.style.height = `${rows * TILE_H}px`;
    const top = this.scroller.scrollTop;
    const h = this.scroller.clientHeight || 600;
    const r0 = Math.max(0, Math.floor(top / TILE_H) - OVERSCAN);
    const r1 = Math.min(rows - 1, Math.ceil((top + h) / TILE_H) + OVERSCAN);
    const first = r0 * cols;
    const last = Math.min(this.hosts.length - 1, (r1 + 1) * cols - 1);
    if (!force && cols === this.cols && first === this.range[0] && last === this.range[1]) return;
    this.cols = cols;
    this.range = [first, last];
    const want = new Set(this.hosts.slice(first, last + 1));
    for (const [name, t] of this.tiles) {
      if (!want.has(name)) { t.el.remove(); this.free.push(t); this.tiles.delete(name); }
    }
    for (let i = first; i <= last; i++) {
      const name = this.hosts[i];
      let t = this.tiles.get(name);
      if (!t) {
        t = this.free.pop() || this.make();
        t.shown = {};
        t.el.dataset.host = name;
        this.tiles.set(name, t);
        this.inner.append(t.el);
      }
      const x = (i % cols) * TILE_W;
      const y = Math.floor(i / cols) * TILE_H;
      if (t.x !== x || t.y !== y) { t.el.style.transform = `translate(${x}px, ${y}px)`; t.x = x; t.y = y; }
      this.paint(t, this.store.hosts.get(name));
    }
  }

  make() {
    const name = el('span', { class: 't-name' });
    const status = el('span', { class: 't-status' });
    const task = el('div', { class: 't-task' });
    const line = el('div', { class: 't-line' });
    const fill = el('div', { class: 't-fill' });
    const pct = el('span', { class: 't-pct' });
    const bar = el('div', { class: 't-bar' }, fill, pct);
    const root = el('div', { class: 'tile', role: 'button', tabindex: '0' },
      el('div', { class: 't-head' }, name, status), task, line, bar);
    return { el: root, parts: { name, status, task, line, fill, pct, bar }, shown: {}, x: null, y: null };
  }

  // Set only what differs from what the tile shows.
  paint(t, h) {
    if (!h) return;
    const s = t.shown;
    const p = t.parts;
    if (s.name !== h.name) { p.name.textContent = h.name; p.name.title = h.name; s.name = h.name; }
    if (s.status !== h.status) {
      t.el.className = `tile st-${h.status}`;
      t.el.dataset.status = h.status;
      p.status.textContent = h.status;
      s.status = h.status;
    }
    const task = h.task ?? '';
    if (s.task !== task) { p.task.textContent = task; p.task.title = task; s.task = task; }
    if (s.line !== h.lastLine) { p.line.textContent = h.lastLine; p.line.title = h.lastLine; s.line = h.lastLine; }
    const pr = h.progress;
    const pct = pr && typeof pr.percentage === 'number' ? Math.max(0, Math.min(100, pr.percentage)) : null;
    const label = pct !== null ? `${Math.floor(pct)}%` : (pr && pr.stage) || '';
    if (s.pct !== pct || s.label !== label || s.has !== !!pr) {
      p.bar.hidden = !pr;
      p.fill.style.width = `${pct ?? 0}%`;
      p.bar.dataset.pct = pct ?? '';
      p.pct.textContent = label;
      s.pct = pct;
      s.label = label;
      s.has = !!pr;
    }
  }

  // Redraw the tiles of these hosts (those in view).
  update(names) {
    for (const name of names) {
      const t = this.tiles.get(name);
      if (t) this.paint(t, this.store.hosts.get(name));
    }
  }
}

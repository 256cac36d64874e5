// The tasks x hosts matrix: a row per host, a column per task, each cell
// the task's result on that host (or running). Rows are virtualised like
// the grid's tiles; a frame redraws the rows of the hosts that changed, and
// every row in view when the task list grew. Click a cell: that task's
// output on that host.
import { el } from './util.js';

const ROW_H = 22;     // px
const CELL_W = 22;
const NAME_W = 180;
const OVERSCAN = 8;

export class Matrix {
  constructor(scroller, store, onOpen) {
    this.scroller = scroller;
    this.store = store;
    this.head = el('div', { class: 'm-head' });
    this.inner = el('div', { class: 'm-inner' });
    scroller.append(this.head, this.inner);
    this.hosts = [];
    this.rows = new Map();   // host -> row element
    this.range = [0, -1];
    this.ntasks = -1;
    scroller.addEventListener('scroll', () => this.layout(false), { passive: true });
    new ResizeObserver(() => this.layout(false)).observe(scroller);
    this.inner.addEventListener('click', (e) => {
      const c = e.target.closest('.cell');
      if (c) onOpen(c.parentElement.dataset.host, c.dataset.task);
      else {
        const r = e.target.closest('.m-row');
        if (r) onOpen(r.dataset.host, null);
      }
    });
  }

  setHosts(names) {
    this.hosts = names;
    this.layout(true);
  }

  header() {
    const tasks = this.store.tasks;
    this.head.replaceChildren(el('span', { class: 'm-name' }, `${this.hosts.length} hosts \u00d7 ${tasks.length} tasks`),
      ...tasks.map((t, i) => el('span', { class: 'm-task', title: `${i + 1}. ${t.name}${t.handler ? ' (handler)' : ''}`,
        dataset: { task: String(t.id) } }, el('span', {}, t.name))));
    const w = NAME_W + tasks.length * CELL_W;
    this.head.style.width = `${w}px`;
    this.inner.style.width = `${w}px`;
    this.ntasks = tasks.length;
  }

  layout(force) {
    if (force || this.ntasks !== this.store.tasks.length) { this.header(); force = true; }
    this.inner.style.height = `${this.hosts.length * ROW_H}px`;
    const top = this.scroller.scrollTop;
    const h = this.scroller.clientHeight || 600;
    const first = Math.max(0, Math.floor(top / ROW_H) - OVERSCAN);
    const last = Math.min(this.hosts.length - 1, Math.ceil((top + h) / ROW_H) + OVERSCAN);
    if (!force && first === this.range[0] && last === this.range[1]) return;
    this.range = [first, last];
    const want = new Set(this.hosts.slice(first, last + 1));
    for (const [name, r] of this.rows) if (!want.has(name)) { r.remove(); this.rows.delete(name); }
    for (let i = first; i <= last; i++) {
      const name = this.hosts[i];
      let r = this.rows.get(name);
      if (!r) {
        r = el('div', { class: 'm-row', dataset: { host: name } });
        this.rows.set(name, r);
        this.inner.append(r);
        force = true;
      }
      r.style.transform = `translateY(${i * ROW_H}px)`;
      if (force || !r.firstChild) this.paint(r, name);
    }
  }

  paint(r, name) {
    const m = this.store.matrix.get(name) || new Map();
    const cells = [el('span', { class: 'm-name', title: name }, name)];
    for (const t of this.store.tasks) {
      const st = m.get(String(t.id));
      cells.push(el('span', { class: `cell${st ? ` st-${st}` : ''}`, title: `${name} \u00b7 ${t.name}: ${st || 'not run'}`,
        dataset: { task: String(t.id), status: st || '' } }));
    }
    r.replaceChildren(...cells);
  }

  update(names) {
    if (this.ntasks !== this.store.tasks.length) { this.layout(true); return; }
    for (const name of names) {
      const r = this.rows.get(name);
      if (r) this.paint(r, name);
    }
  }
}

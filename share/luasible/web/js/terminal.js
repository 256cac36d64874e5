// A host's terminal (xterm.js: ANSI colours, \r redraws as a terminal
// draws them). The terminal holds a window of the host's output (at most
// WINDOW lines), fetched in pages from /api/output; scrolling to its top
// fetches the page before, scrolling to its bottom (when the window does not
// reach the end) the page after. While the window reaches the end and the
// view is at the bottom, it follows the live lines; scrolling up stops
// following (new lines still arrive below), scrolling back down resumes.
// So a command with a million lines never loads more than a window.
import { getJSON, list } from './util.js';

const PAGE = 2000;      // lines per /api/output request
const WINDOW = 10000;   // lines in the terminal at most (its scrollback)

const THEME = {
  background: '#0f1419', foreground: '#d7dae0', cursor: '#0f1419',
  selectionBackground: '#3d5a80', selectionInactiveBackground: '#3d5a80',
};

function text(lines) {
  let s = '';
  for (const l of lines) s += String(l.data ?? '') + (l.cr ? '\r' : '\r\n');
  return s;
}

export class TermView {
  constructor(root, store) {
    this.root = root;
    this.store = store;
    this.title = root.querySelector('#term-title');
    this.info = root.querySelector('#term-info');
    this.box = root.querySelector('#term');
    root.querySelector('#term-close').addEventListener('click', () => this.close());
    this.term = null;
    this.host = null;
    this.taskId = null;
    this.lines = [];      // the window: { seq, stream, data, cr }
    this.from = 0;        // index of lines[0] in the host's (or task's) output
    this.total = 0;
    this.attached = true; // the window reaches the end of the output
    this.busy = 0;
    this.pending = [];    // live lines that came while a page was loading
    this.gen = 0;
    this.queued = '';     // live text not yet written (one write a frame)
    this.flushing = 0;
    store.listeners.add((ev) => this.onEvent(ev));
  }

  ensure() {
    if (this.term) return;
    const Terminal = window.Terminal;
    this.term = new Terminal({ scrollback: WINDOW, disableStdin: true, convertEol: false,
      fontFamily: 'ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace', fontSize: 13,
      theme: THEME, cursorBlink: false, cursorStyle: 'underline' });
    if (window.FitAddon) {
      this.fit = new window.FitAddon.FitAddon();
      this.term.loadAddon(this.fit);
    }
    this.term.open(this.box);
    this.viewport = this.box.querySelector('.xterm-viewport');
    this.viewport.addEventListener('scroll', () => this.onScroll(), { passive: true });
    this.term.onScroll(() => this.onScroll());
    new ResizeObserver(() => this.refit()).observe(this.box);
  }

  refit() {
    if (this.fit && !this.root.hidden) { try { this.fit.fit(); } catch { /* not laid out yet */ } }
  }

  isOpen() { return !this.root.hidden && this.host !== null; }

  close() {
    this.root.hidden = true;
    this.host = null;
    this.gen++;
    document.body.classList.remove('term-open');
  }

  // Open host's output (taskId: only that task's), at its end, or around
  // line `at` (0-based, highlighted).
  async open(host, taskId = null, at = null) {
    this.root.hidden = false;
    document.body.classList.add('term-open');
    this.ensure();
    this.refit();
    const gen = ++this.gen;
    this.host = host;
    this.taskId = taskId === null || taskId === undefined || taskId === '' ? null : String(taskId);
    const task = this.taskId !== null ? this.store.taskById.get(this.taskId) : null;
    this.title.textContent = task ? `${host} \u00b7 ${task.name}` : host;
    this.lines = [];
    this.pending = [];
    this.queued = '';
    this.term.reset();
    this.busy++;
    try {
      const head = await this.page(0, 0);
      if (gen !== this.gen) return;
      const total = head.total ?? 0;
      const from = at !== null ? Math.max(0, Math.min(at - PAGE / 2, total - PAGE)) : Math.max(0, total - PAGE);
      const pg = await this.page(from, PAGE);
      if (gen !== this.gen) return;
      this.lines = list(pg.lines);
      this.from = pg.from ?? from;
      this.total = Math.max(pg.total ?? total, this.from + this.lines.length);
      this.attached = this.from + this.lines.length >= this.total;
      await this.render(at !== null ? at - this.from : null);
    } catch (e) {
      if (gen === this.gen) this.term.write(`\x1b[31m${e.message}\x1b[0m\r\n`);
    } finally {
      this.busy--;
    }
    if (gen === this.gen) this.flushPending();
    this.status();
  }

  page(from, count) {
    const q = { host: this.host, from, count };
    if (this.taskId !== null) q.task = this.taskId;
    return getJSON('api/output', q);
  }

  lastSeq() {
    const l = this.lines[this.lines.length - 1];
    return l && typeof l.seq === 'number' ? l.seq : -Infinity;
  }

  // Write the window; `mark` (an index in it): scroll there and select it.
  render(mark) {
    const t = this.term;
    this.queued = '';
    t.reset();
    return new Promise((resolve) => {
      if (mark === null || mark === undefined || mark < 0 || mark >= this.lines.length) {
        t.write(text(this.lines), () => { t.scrollToBottom(); resolve(); });
        return;
      }
      let row = 0;
      t.write(text(this.lines.slice(0, mark)), () => { row = t.buffer.active.baseY + t.buffer.active.cursorY; });
      t.write(text(this.lines.slice(mark)), () => {
        t.scrollToLine(Math.max(0, row - 3));
        t.selectLines(row, row);
        resolve();
      });
    });
  }

  flushPending() {
    const p = this.pending;
    this.pending = [];
    if (!this.attached) return;
    for (const l of p) this.append(l);
  }

  // A live line of the open host (and task).
  onEvent(ev) {
    if (this.host === null || ev.host !== this.host) return;
    if (ev.type !== 'stdout' && ev.type !== 'stderr') return;
    if (this.taskId !== null) {
      const h = this.store.hosts.get(ev.host);
      if (String(this.store.taskIdOf(ev, h)) !== this.taskId) return;
    }
    const l = { seq: ev.seq, stream: ev.type, data: ev.data, cr: !!ev.cr };
    if (this.busy > 0) { this.pending.push(l); return; }
    if (!this.attached) { this.total++; this.status(); return; }
    this.append(l);
  }

  append(l) {
    if (typeof l.seq === 'number' && l.seq <= this.lastSeq()) return;
    this.lines.push(l);
    this.total = Math.max(this.total + 1, this.from + this.lines.length);
    if (this.lines.length > WINDOW + PAGE) {
      this.lines.splice(0, PAGE);   // the terminal's scrollback drops them too
      this.from += PAGE;
    }
    // one write per animation frame, however many lines came
    this.queued += String(l.data ?? '') + (l.cr ? '\r' : '\r\n');
    if (!this.flushing) {
      this.flushing = requestAnimationFrame(() => {
        this.flushing = 0;
        const q = this.queued;
        this.queued = '';
        if (q && this.term) this.term.write(q);
      });
    }
    this.statusSoon();
  }

  statusSoon() {
    if (this.statusTimer) return;
    this.statusTimer = setTimeout(() => { this.statusTimer = null; this.status(); }, 200);
  }

  atBottom() {
    const b = this.term.buffer.active;
    return b.viewportY >= b.baseY;
  }

  status() {
    if (!this.term || this.host === null) return;
    const follow = this.attached && this.atBottom();
    const a = this.total === 0 ? 0 : this.from + 1;
    const z = this.from + this.lines.length;
    this.info.textContent = `lines ${a}\u2013${z} of ${this.total}` +
      (follow ? ' \u00b7 following' : ' \u00b7 paused (scroll to the bottom to follow)');
    this.root.dataset.follow = follow ? '1' : '0';
  }

  onScroll() {
    if (this.host === null || !this.term) return;
    const b = this.term.buffer.active;
    if (this.busy === 0 && b.viewportY === 0 && this.from > 0) this.older();
    else if (this.busy === 0 && !this.attached && this.atBottom()) this.newer();
    this.status();
  }

  // The page before the window (scrolled to the top).
  async older() {
    const gen = this.gen;
    this.busy++;
    try {
      const from = Math.max(0, this.from - PAGE);
      const pg = await this.page(from, this.from - from);
      if (gen !== this.gen) return;
      const got = list(pg.lines);
      this.lines = got.concat(this.lines);
      this.from = from;
      if (pg.total) this.total = Math.max(this.total, pg.total);
      if (this.lines.length > WINDOW) { this.lines.length = WINDOW; this.attached = false; }
      await this.render(got.length);   // keep the line that was at the top in view
      this.term.clearSelection();
    } finally {
      this.busy--;
    }
    if (gen === this.gen) this.flushPending();
    this.status();
  }

  // The page after the window (scrolled to its bottom while detached).
  async newer() {
    const gen = this.gen;
    this.busy++;
    try {
      const end = this.from + this.lines.length;
      const pg = await this.page(end, PAGE);
      if (gen !== this.gen) return;
      const got = list(pg.lines);
      const keep = this.lines.length;
      this.lines = this.lines.concat(got);
      let mark = keep;
      if (this.lines.length > WINDOW) {
        const cut = this.lines.length - WINDOW;
        this.lines.splice(0, cut);
        this.from += cut;
        mark -= cut;
      }
      if (pg.total) this.total = Math.max(this.total, pg.total);
      this.attached = this.from + this.lines.length >= (pg.total ?? this.total);
      await this.render(mark);
      this.term.clearSelection();
    } finally {
      this.busy--;
    }
    if (gen === this.gen) this.flushPending();
    this.status();
  }

  // The text in the terminal's buffer (for the specs and the bench).
  text() {
    if (!this.term) return [];
    const b = this.term.buffer.active;
    const out = [];
    for (let i = 0; i < b.length; i++) out.push(b.getLine(i).translateToString(true));
    while (out.length && out[out.length - 1] === '') out.pop();
    return out;
  }
}


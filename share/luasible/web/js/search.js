// Search over the whole log, on the server (/api/search), so it finds lines
// the page never loaded. Hits are listed with host and task; a click opens
// the host's terminal at that line. "More" asks for the hits after the last.
import { el, getJSON, list, stripAnsi } from './util.js';

const LIMIT = 200;

export class Search {
  constructor(root, store, getFilters, onJump) {
    this.root = root;
    this.store = store;
    this.getFilters = getFilters;
    this.onJump = onJump;
    this.list = root.querySelector('#search-hits');
    this.info = root.querySelector('#search-info');
    this.more = root.querySelector('#search-more');
    root.querySelector('#search-close').addEventListener('click', () => { root.hidden = true; });
    this.more.addEventListener('click', () => this.fetch(true));
    this.list.addEventListener('click', (e) => {
      const li = e.target.closest('li');
      if (li) this.onJump(li.dataset.host, Number(li.dataset.line));
    });
    this.q = null;
    this.after = null;
    this.count = 0;
  }

  async run(q, regex) {
    this.q = { q, regex: regex ? 1 : undefined };
    this.after = null;
    this.count = 0;
    this.gen = (this.gen || 0) + 1;
    this.list.replaceChildren();
    this.root.hidden = false;
    if (!q) { this.info.textContent = 'type something to search the log'; this.more.hidden = true; return; }
    await this.fetch(false);
  }

  // One page of hits: the server searches the log in bounded slices and
  // may answer "none yet, go on after SEQ" (done false): keep asking until
  // hits come or the log ends, so the first hit shows as soon as it is found.
  async fetch(more) {
    const gen = this.gen;
    const f = this.getFilters();
    const params = { ...this.q, host: f.host || undefined, status: f.status || undefined, limit: LIMIT };
    if (more && this.after !== null) params.after = this.after;
    this.info.textContent = 'searching\u2026';
    this.more.hidden = true;
    let r;
    let got = 0;
    for (;;) {
      try {
        r = await getJSON('api/search', params);
      } catch (e) {
        if (gen !== this.gen) return;
        this.info.textContent = e.status === 400 ? 'not a valid search (a bad regular expression?)' : e.message;
        return;
      }
      if (gen !== this.gen) return;
      got += this.show(list(r.hits));
      this.after = r.next_after ?? null;
      if (got > 0 || r.done !== false || this.after === null) break;
      params.after = this.after;
      this.info.textContent = `searching\u2026 (${this.after} of ${this.store.seq} events)`;
    }
    const done = r.done !== false;
    this.more.hidden = done || this.after === null;
    this.info.textContent = `${this.count} hit${this.count === 1 ? '' : 's'}${done ? '' : ' so far'}`;
  }

  show(hits) {
    const frag = document.createDocumentFragment();
    for (const hit of hits) {
      const task = this.store.taskById.get(String(hit.task_id ?? hit.task));
      const tname = task ? task.name : (hit.task ?? '');
      frag.append(el('li', { dataset: { host: hit.host, line: String(hit.line ?? 0), seq: String(hit.seq ?? '') },
        title: `line ${(hit.line ?? 0) + 1} of ${hit.host}` },
      el('span', { class: 'h-host' }, hit.host),
      el('span', { class: 'h-task' }, tname),
      el('span', { class: 'h-line' }, `${(hit.line ?? 0) + 1}`),
      el('span', { class: 'h-data' }, stripAnsi(hit.data))));
      this.count++;
    }
    this.list.append(frag);
    return hits.length;
  }
}

// The page: wires the store, the connection and the views, and redraws what
// changed once per animation frame (events may come by the thousand a
// second; the DOM is touched at most 60 times a second, and only where a
// host changed).
import { Store, STATUSES } from './store.js';
import { Connection } from './conn.js';
import { Grid } from './grid.js';
import { Matrix } from './matrix.js';
import { TermView } from './terminal.js';
import { Search } from './search.js';
import { renderRecap } from './recap.js';
import { duration, el, hostMatcher } from './util.js';

const $ = (sel) => document.querySelector(sel);

const store = new Store();
const term = new TermView($('#term-panel'), store);
const grid = new Grid($('#grid-view'), store, (host) => term.open(host));
const matrix = new Matrix($('#matrix-view'), store, (host, task) => term.open(host, task));

const filters = { status: '', host: '' };
const search = new Search($('#search-panel'), store, () => filters, (host, line) => term.open(host, null, line));

let view = 'grid';
let visible = [];
let matches = hostMatcher('');
let frame = 0;
let connState = 'loading';

// Summary bar: a chip per status (hosts in it), the elapsed time, the task
// now running, the connection.
const chips = new Map();
for (const s of STATUSES) {
  const n = el('b', {}, '0');
  const chip = el('button', { class: `chip st-${s}`, type: 'button', title: `show only ${s} hosts`,
    dataset: { status: s } }, n, ` ${s}`);
  chip.addEventListener('click', () => {
    $('#filter-status').value = filters.status === s ? '' : s;
    setFilters();
  });
  chips.set(s, n);
  $('#counts').append(chip);
}
for (const s of STATUSES) $('#filter-status').append(el('option', { value: s }, s));

function refilter() {
  visible = store.order.filter((name) => {
    if (!matches(name)) return false;
    return !filters.status || store.hosts.get(name).status === filters.status;
  });
  grid.setHosts(visible);
  matrix.setHosts(visible);
  $('#shown').textContent = visible.length === store.order.length ? `${visible.length} hosts`
    : `${visible.length} of ${store.order.length} hosts`;
}

function setFilters() {
  filters.status = $('#filter-status').value;
  filters.host = $('#filter-host').value.trim();
  try { matches = hostMatcher(filters.host); $('#filter-host').classList.remove('bad'); } catch {
    $('#filter-host').classList.add('bad');
  }
  refilter();
}

function summary() {
  const n = store.countByStatus();
  for (const [s, b] of chips) {
    const v = String(n[s] ?? 0);
    if (b.textContent !== v) b.textContent = v;
    b.parentElement.classList.toggle('zero', v === '0');
  }
  $('#play').textContent = store.play ? `PLAY ${store.play}` : '';
  $('#task-now').textContent = store.finished ? 'finished' : (store.task ? `TASK ${store.task}` : '');
  tick();
  if (store.recap && $('#recap-panel').hidden) {
    renderRecap($('#recap'), store.recap, store.recapElapsed);
    $('#recap-panel').hidden = false;
  }
}

function tick() {
  const t = duration(store.elapsedNow());
  if ($('#elapsed').textContent !== t) $('#elapsed').textContent = t;
}

function draw() {
  frame = 0;
  const statusChanged = store.dirtyOrder || (filters.status && store.dirtyHosts.size > 0);
  if (statusChanged) {
    store.dirtyOrder = false;
    refilter();
  }
  if (store.dirtyHosts.size) {
    const names = store.dirtyHosts;
    store.dirtyHosts = new Set();
    // the hidden view repaints all it shows when it is shown again
    if (view === 'grid') grid.update(names);
    else matrix.update(names);
  }
  if (store.dirtyTasks) { store.dirtyTasks = false; if (view === 'matrix') matrix.layout(true); }
  if (store.dirtySummary) { store.dirtySummary = false; summary(); }
  for (const fn of afterDraw) fn();
}

const afterDraw = new Set();   // fn() after each frame's DOM updates (the bench)

store.onDirty = () => { if (!frame) frame = requestAnimationFrame(draw); };

function show(v) {
  view = v;
  for (const b of document.querySelectorAll('[data-view]')) b.classList.toggle('on', b.dataset.view === v);
  $('#grid-view').hidden = v !== 'grid';
  $('#matrix-view').hidden = v !== 'matrix';
  if (v === 'grid') grid.layout(true);
  else matrix.layout(true);
}

for (const b of document.querySelectorAll('[data-view]')) b.addEventListener('click', () => show(b.dataset.view));
$('#filter-status').addEventListener('change', setFilters);
$('#filter-host').addEventListener('input', setFilters);
$('#search-form').addEventListener('submit', (e) => {
  e.preventDefault();
  search.run($('#search').value, $('#search-regex').checked);
});
$('#recap-close').addEventListener('click', () => { $('#recap-panel').classList.toggle('folded'); });
document.addEventListener('keydown', (e) => {
  if (e.key === 'Escape') { if (term.isOpen()) term.close(); else $('#search-panel').hidden = true; }
  if ((e.ctrlKey || e.metaKey) && e.key === 'f' && !e.shiftKey) { e.preventDefault(); $('#search').focus(); }
});
setInterval(tick, 500);

const conn = new Connection(store, (s) => {
  connState = s;
  const c = $('#conn');
  c.textContent = s;
  c.dataset.state = s.split(' ')[0];
});

// For the browser specs and the bench (read-only: it changes nothing).
window.luasible = { store, conn, term, grid, matrix, afterDraw, get state() { return connState; } };

show('grid');
conn.start().catch((e) => {
  $('#conn').textContent = `cannot load the run: ${e.message}`;
  $('#conn').dataset.state = 'error';
  if (e.status === 401 || e.status === 403) {
    $('#conn').textContent = 'not allowed: open the URL with the token that luasible printed';
  } else conn.retry();
});

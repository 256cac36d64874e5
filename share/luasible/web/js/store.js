// The page's model of the run: hosts, tasks, the tasks x hosts matrix, the
// recap. Filled from /api/state, then kept up to date by events (catch-up
// from /api/events, then the WebSocket). It records what changed (dirty
// sets) so that the views redraw only that, once per animation frame.
import { list, parsePercent, stripAnsi } from './util.js';

export const STATUSES = ['pending', 'running', 'ok', 'changed', 'failed', 'unreachable', 'skipped'];
export const COUNTERS = ['ok', 'changed', 'unreachable', 'failed', 'skipped', 'rescued', 'ignored'];

function counters() {
  return { ok: 0, changed: 0, unreachable: 0, failed: 0, skipped: 0, rescued: 0, ignored: 0 };
}

// A host's colour when it is not running a task: the recap's counters read
// as the worst thing that happened to it (NOTES-for-dash-server.md, 2).
export function statusOf(c) {
  if (c.unreachable > 0) return 'unreachable';
  if (c.failed > 0) return 'failed';
  if (c.changed > 0) return 'changed';
  if (c.ok > 0) return 'ok';
  if (c.skipped > 0) return 'skipped';
  return 'pending';
}

export class Store {
  constructor() {
    this.seq = 0;
    this.hosts = new Map();       // name -> host
    this.order = [];              // host names in the order they appeared
    this.tasks = [];              // { id, name, play, handler }
    this.taskById = new Map();
    this.matrix = new Map();      // host -> Map(task id -> status)
    this.play = null;
    this.task = null;             // the task now running (its name)
    this.started = null;          // epoch seconds
    this.elapsed = null;          // seconds, at elapsedAt (performance.now())
    this.elapsedAt = 0;
    this.finished = false;
    this.recap = null;
    this.recapElapsed = null;
    this.listeners = new Set();   // fn(ev) for every event applied
    this.dirtyHosts = new Set();
    this.dirtyTasks = false;      // the task list changed (matrix columns)
    this.dirtyOrder = false;      // hosts were added (grid order, filters)
    this.dirtySummary = true;
    this.onDirty = null;          // called when something became dirty
  }

  host(name) {
    let h = this.hosts.get(name);
    if (!h) {
      h = { name, status: 'pending', task: null, taskId: null, lastLine: '', progress: null,
        counts: counters(), running: false, index: this.order.length };
      this.hosts.set(name, h);
      this.order.push(name);
      this.matrix.set(name, new Map());
      this.dirtyOrder = true;
    }
    return h;
  }

  touch(h) {
    this.dirtyHosts.add(h.name);
    this.dirtySummary = true;
    if (this.onDirty) this.onDirty();
  }

  addTask(t) {
    const id = t.id ?? this.tasks.length + 1;
    if (this.taskById.has(String(id))) return this.taskById.get(String(id));
    const task = { id, name: t.name ?? t.task ?? String(id), play: t.play ?? this.play, handler: !!t.handler };
    this.tasks.push(task);
    this.taskById.set(String(id), task);
    this.dirtyTasks = true;
    return task;
  }

  // The id of the task an event of host h is about.
  taskIdOf(ev, h) {
    if (ev.task_id !== undefined && ev.task_id !== null) return ev.task_id;
    if (h && h.taskId !== null && h.task === ev.task) return h.taskId;
    for (let i = this.tasks.length - 1; i >= 0; i--) {
      if (this.tasks[i].name === ev.task) return this.tasks[i].id;
    }
    return null;
  }

  // /api/state: the snapshot the events then continue.
  load(st) {
    this.seq = st.seq ?? 0;
    this.play = st.play ?? null;
    this.task = st.task ?? null;
    this.started = st.started ?? null;
    this.finished = !!st.finished;
    if (typeof st.elapsed === 'number') { this.elapsed = st.elapsed; this.elapsedAt = performance.now(); }
    for (const t of list(st.tasks)) this.addTask(t);
    for (const s of list(st.hosts)) {
      const h = this.host(s.name);
      for (const k of COUNTERS) if (typeof s[k] === 'number') h.counts[k] = s[k];
      if (s.counts) for (const k of COUNTERS) if (typeof s.counts[k] === 'number') h.counts[k] = s.counts[k];
      h.task = s.task ?? null;
      h.taskId = s.task_id ?? (h.task !== null ? this.taskIdOf({ task: h.task }, null) : null);
      h.lastLine = stripAnsi(s.last_line ?? '');
      h.progress = s.progress && typeof s.progress === 'object' ? s.progress : null;
      h.running = s.status === 'running';
      h.status = h.running ? 'running' : statusOf(h.counts);
      if (h.status === 'pending' && STATUSES.includes(s.status)) h.status = s.status;
      this.dirtyHosts.add(h.name);
    }
    for (const [host, row] of Object.entries(st.matrix || {})) {
      this.host(host);
      const m = this.matrix.get(host);
      for (const [tid, status] of Object.entries(row || {})) m.set(String(tid), status);
      this.dirtyHosts.add(host);
    }
    if (st.recap) this.setRecap(st.recap, st.elapsed);
    this.dirtySummary = true;
    if (this.onDirty) this.onDirty();
  }

  setRecap(recap, elapsed) {
    this.recap = recap;
    this.recapElapsed = elapsed ?? null;
    this.finished = true;
    for (const [name, r] of Object.entries(recap)) {
      const h = this.host(name);
      for (const k of COUNTERS) h.counts[k] = r[k] ?? 0;
      h.running = false;
      h.progress = null;
      h.status = statusOf(h.counts);
      this.dirtyHosts.add(name);
    }
    if (typeof elapsed === 'number') { this.elapsed = elapsed; this.elapsedAt = performance.now(); }
  }

  // One event; those at or before the seq already applied are ignored (a
  // catch-up and the live stream may overlap).
  apply(ev) {
    if (typeof ev.seq === 'number') {
      if (ev.seq <= this.seq) return false;
      this.seq = ev.seq;
    }
    if (this.started === null && typeof ev.timestamp === 'number') this.started = ev.timestamp;
    if (ev.play !== undefined && ev.play !== null) this.play = ev.play;
    const h = ev.host !== undefined && ev.host !== null ? this.host(ev.host) : null;
    switch (ev.type) {
      case 'play_start':
        for (const name of list(ev.hosts)) this.touch(this.host(name));
        break;
      case 'task_start': {
        const t = this.addTask({ id: ev.task_id, name: ev.task, play: ev.play, handler: ev.handler });
        this.task = t.name;
        break;
      }
      case 'host_task_start':
        h.task = ev.task;
        h.taskId = this.taskIdOf(ev, null);
        h.running = true;
        h.status = 'running';
        h.progress = null;
        this.matrix.get(h.name).set(String(h.taskId), 'running');
        this.touch(h);
        break;
      case 'stdout':
      case 'stderr': {
        const line = stripAnsi(ev.data);
        h.lastLine = line;
        if (ev.cr) {
          const pct = parsePercent(line);
          if (pct !== null) h.progress = { percentage: pct, stage: 'output' };
        }
        if (h.status === 'pending') h.status = 'running';
        this.touch(h);
        break;
      }
      case 'progress': {
        const p = ev.progress || {};
        h.progress = { percentage: typeof p.percentage === 'number' ? p.percentage : null,
          stage: p.stage ?? null, message: p.message ?? null };
        this.touch(h);
        break;
      }
      case 'host_task_result': {
        const st = ev.status;
        const c = h.counts;
        if (st === 'failed' && ev.result && ev.result.ignored) c.ignored++;
        else if (st === 'failed' && ev.rescued) c.rescued++; // a block's rescue took it: rescued, as Ansible counts
        else if (st === 'unreachable' && ev.result && ev.result.ignored) { c.ignored++; c.ok++; }
        else if (st in c) c[st]++;
        if (st === 'changed') c.ok++;
        const tid = this.taskIdOf(ev, h);
        this.matrix.get(h.name).set(String(tid), st);
        h.running = false;
        h.progress = null;
        h.status = statusOf(c);
        this.touch(h);
        break;
      }
      case 'recap':
        this.setRecap(ev.recap || {}, ev.elapsed);
        break;
      default:
        break;
    }
    this.dirtySummary = true;
    for (const fn of this.listeners) fn(ev);
    if (this.onDirty) this.onDirty();
    return true;
  }

  // Hosts per status, for the summary bar.
  countByStatus() {
    const n = Object.fromEntries(STATUSES.map((s) => [s, 0]));
    for (const h of this.hosts.values()) n[h.status] = (n[h.status] ?? 0) + 1;
    return n;
  }

  elapsedNow() {
    if (this.finished && this.recapElapsed !== null) return this.recapElapsed;
    if (this.elapsed !== null) {
      return this.finished ? this.elapsed : this.elapsed + (performance.now() - this.elapsedAt) / 1000;
    }
    if (this.started !== null) return Date.now() / 1000 - this.started;
    return 0;
  }
}

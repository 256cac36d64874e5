// The connection to the server: /api/state, then /api/events?since= until
// caught up, then the WebSocket /ws?since=LAST. Every event goes to
// store.apply in seq order. When the socket closes, it reconnects with
// since= the last seq applied (exponential backoff); a "catchup" frame (the
// server found this client too slow) means: fetch /api/events?since= over
// HTTP, then reconnect. Nothing is lost and nothing is applied twice (the
// store ignores a seq it has seen).
import { getJSON, list } from './util.js';

const PAGE = 5000;           // events per /api/events request
const BACKOFF_MIN = 250;     // ms
const BACKOFF_MAX = 8000;
const QUIET = 5000;          // ms without a frame before the log is asked

export class Connection {
  constructor(store, onStatus) {
    this.store = store;
    this.onStatus = onStatus || (() => {});
    this.ws = null;
    this.backoff = BACKOFF_MIN;
    this.timer = null;
    this.catchupSince = null;
    this.stopped = false;
    this.frames = 0;
    this.reconnects = 0;
    this.stalls = 0;             // silent sockets the watch replaced
    this.lastFrame = 0;
  }

  async start() {
    this.onStatus('loading');
    const st = await getJSON('api/state');
    this.store.load(st);
    await this.catchUp();
    this.connect();
  }

  // Events after the store's seq, over HTTP, until none is left.
  async catchUp() {
    this.onStatus('catching up');
    for (;;) {
      const since = this.store.seq;
      const r = await getJSON('api/events', { since, limit: PAGE });
      const evs = list(r.events);
      for (const ev of evs) this.store.apply(ev);
      const next = typeof r.next === 'number' ? r.next : this.store.seq;
      if (next > this.store.seq) this.store.seq = next;
      const last = typeof r.last === 'number' ? r.last : this.store.seq;
      if (evs.length === 0 || this.store.seq >= last) return;
    }
  }

  wsURL() {
    const u = new URL('ws', document.baseURI);
    u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
    u.searchParams.set('since', String(this.store.seq));
    return u.href;
  }

  connect() {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.catchupSince = null;
    const ws = new WebSocket(this.wsURL());
    this.ws = ws;
    ws.onopen = () => this.onStatus(this.store.finished ? 'finished' : 'live');
    ws.onmessage = (m) => {
      let batch;
      try { batch = JSON.parse(m.data); } catch { return; }
      if (!Array.isArray(batch)) batch = [batch];
      this.frames++;
      this.backoff = BACKOFF_MIN;
      this.lastFrame = performance.now();
      for (const ev of batch) {
        if (ev && ev.type === 'catchup') {
          // read the log over HTTP, then come back; close our side at once
          // rather than wait for the server's close
          this.catchupSince = ev.since ?? this.store.seq;
          ws.close(1000);
          break;
        }
        this.store.apply(ev);
      }
      if (this.store.finished) this.onStatus('finished');
    };
    ws.onclose = (e) => {
      if (this.ws !== ws) return;
      this.ws = null;
      if (this.stopped) return;
      if (e.code === 4000 || this.catchupSince !== null) {
        // too slow for the live stream: read the log, then come back
        this.catchUp().then(() => this.connect(), () => this.retry());
        return;
      }
      this.retry();
    };
    ws.onerror = () => {}; // onclose follows and says what to do
    this.lastFrame = performance.now();
    this.watch();
  }

  // A safety net: a socket open but silent for QUIET ms while the run goes
  // on is checked against the log; if the log has events the page has not,
  // the page reconnects (catching up first), whatever kept them from it.
  watch() {
    clearInterval(this.watchTimer);
    this.watchTimer = setInterval(async () => {
      if (!this.ws || this.ws.readyState !== WebSocket.OPEN || this.checking) return;
      if (performance.now() - this.lastFrame < QUIET) return;
      this.checking = true;
      try {
        const r = await getJSON('api/events', { since: this.store.seq, limit: 1 });
        const last = typeof r.last === 'number' ? r.last : this.store.seq;
        if (last > this.store.seq && performance.now() - this.lastFrame >= QUIET && this.ws) {
          this.stalls++;
          const ws = this.ws;
          this.ws = null;
          ws.onclose = null;
          ws.close(1000);
          await this.catchUp();
          this.connect();
        }
      } catch { /* the next tick tries again; a closed socket has its own path */ } finally {
        this.checking = false;
      }
    }, QUIET / 2);
  }

  retry() {
    this.reconnects++;
    const wait = this.backoff;
    this.backoff = Math.min(BACKOFF_MAX, this.backoff * 2);
    this.onStatus(`reconnecting in ${(wait / 1000).toFixed(1)} s`);
    this.timer = setTimeout(() => {
      // the server may have restarted with a log of its own: catch up over
      // HTTP first (a failure there comes back here)
      this.catchUp().then(() => this.connect(), () => this.retry());
    }, wait);
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    clearInterval(this.watchTimer);
    if (this.ws) this.ws.close();
  }
}

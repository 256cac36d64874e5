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
      for (const ev of batch) {
        if (ev && ev.type === 'catchup') { this.catchupSince = ev.since ?? this.store.seq; continue; }
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
    if (this.ws) this.ws.close();
  }
}

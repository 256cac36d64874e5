// Small helpers shared by the page's modules: text, globs, numbers, time.

// ANSI escape sequences (CSI, OSC, two-byte ESC x), for the one-line views
// (tiles, search hits) that show plain text; the terminal keeps them.
const ANSI = /\x1b\[[0-9;?<=>!]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]/g;

export function stripAnsi(s) {
  s = String(s ?? '');
  return s.indexOf('\x1b') < 0 ? s : s.replace(ANSI, '');
}

// The last percentage a redraw line shows ("compiling  45%", "[####  ] 45.5 %"),
// or null. Values over 100 are not percentages of anything.
const PCT = /(\d{1,3}(?:\.\d+)?)\s?%/g;

export function parsePercent(s) {
  let found = null;
  for (const m of stripAnsi(s).matchAll(PCT)) {
    const v = Number(m[1]);
    if (v >= 0 && v <= 100) found = v;
  }
  return found;
}

// A host pattern as the filter box takes it: globs (* ? [abc] [!a-z])
// separated by commas or colons; a term starting with ! excludes. Empty
// matches everything. Returns a predicate on host names.
export function hostMatcher(pattern) {
  const terms = String(pattern || '').split(/[,:]/).map((t) => t.trim()).filter(Boolean);
  if (terms.length === 0) return () => true;
  const include = [];
  const exclude = [];
  for (const t of terms) {
    if (t.startsWith('!')) exclude.push(globToRegExp(t.slice(1)));
    else include.push(globToRegExp(t));
  }
  return (name) => (include.length === 0 || include.some((r) => r.test(name)))
    && !exclude.some((r) => r.test(name));
}

export function globToRegExp(glob) {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === '*') re += '.*';
    else if (c === '?') re += '.';
    else if (c === '[') {
      const end = glob.indexOf(']', i + 2);
      if (end < 0) { re += '\\['; continue; }
      let body = glob.slice(i + 1, end);
      if (body.startsWith('!')) body = '^' + body.slice(1);
      re += '[' + body.replace(/\\/g, '\\\\') + ']';
      i = end;
    } else re += c.replace(/[.+^${}()|\\\]]/g, '\\$&');
  }
  return new RegExp('^' + re + '$');
}

// Lua's string.format("%.2fs") / "%dm%02ds" of render/text.lua's duration.
export function duration(s) {
  s = Number(s) || 0;
  if (s < 60) return s.toFixed(2) + 's';
  return `${Math.floor(s / 60)}m${String(Math.floor((s % 60) + 0.5)).padStart(2, '0')}s`;
}

// An element: el('div', { class: 'x', title: 't' }, child, 'text', ...)
export function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') e.className = v;
    else if (k === 'dataset') Object.assign(e.dataset, v);
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children) {
    if (c === undefined || c === null || c === false) continue;
    e.append(c instanceof Node ? c : String(c));
  }
  return e;
}

// GET a JSON document relative to the page (so a proxy prefix works).
export async function getJSON(path, params) {
  const url = new URL(path, document.baseURI);
  for (const [k, v] of Object.entries(params || {})) {
    if (v !== undefined && v !== null && v !== '') url.searchParams.set(k, v);
  }
  const res = await fetch(url, { credentials: 'same-origin', cache: 'no-store' });
  if (!res.ok) {
    const err = new Error(`${url.pathname}: HTTP ${res.status}`);
    err.status = res.status;
    throw err;
  }
  return res.json();
}

// The server's JSON writes an empty list as [] or {}; both mean empty.
export function list(v) {
  if (Array.isArray(v)) return v;
  return v && typeof v === 'object' ? Object.values(v) : [];
}

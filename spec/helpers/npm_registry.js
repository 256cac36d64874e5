// spec/helpers/npm_registry.js: a small npm registry for the npm module's
// specs, run ON a test host by spec/helpers/pkgservers.lua. It serves the
// registry protocol npm install/ls/outdated use: GET /NAME -> the packument
// (dist-tags.latest, versions with dist.tarball/shasum/integrity) built from
// ROOT/NAME/VERSION.tgz (made by `npm pack`) and ROOT/NAME/VERSION.json
// (its package.json); GET /NAME/-/NAME-VERSION.tgz -> the tarball. Every
// request is appended to ROOT/.requests. Usage: node npm_registry.js PORT ROOT
"use strict";
const http = require("http");
const fs = require("fs");
const path = require("path");
const crypto = require("crypto");
const port = Number(process.argv[2]);
const root = process.argv[3];
const base = "http://" + (process.argv[4] || "127.0.0.1") + ":" + port;

function cmp(a, b) {
  const x = a.split(/[.-]/).map(Number), y = b.split(/[.-]/).map(Number);
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    if ((x[i] || 0) !== (y[i] || 0)) return (x[i] || 0) - (y[i] || 0);
  }
  return 0;
}

function packument(name) {
  const dir = path.join(root, name);
  if (!fs.existsSync(dir)) return null;
  const versions = {};
  const vs = fs.readdirSync(dir).filter((f) => f.endsWith(".tgz")).map((f) => f.slice(0, -4)).sort(cmp);
  for (const v of vs) {
    const tgz = fs.readFileSync(path.join(dir, v + ".tgz"));
    const meta = JSON.parse(fs.readFileSync(path.join(dir, v + ".json"), "utf8"));
    meta._id = name + "@" + v;
    meta.dist = {
      tarball: base + "/" + name + "/-/" + name + "-" + v + ".tgz",
      shasum: crypto.createHash("sha1").update(tgz).digest("hex"),
      integrity: "sha512-" + crypto.createHash("sha512").update(tgz).digest("base64"),
    };
    versions[v] = meta;
  }
  return { _id: name, name, "dist-tags": { latest: vs[vs.length - 1] }, versions };
}

http.createServer((req, res) => {
  fs.appendFileSync(path.join(root, ".requests"), req.method + " " + req.url + "\n");
  const url = decodeURIComponent(req.url.split("?")[0]);
  const m = url.match(/^\/([^/]+)\/-\/[^/]+-(\d[^/]*)\.tgz$/);
  if (m && req.method === "GET") {
    const f = path.join(root, m[1], m[2] + ".tgz");
    if (fs.existsSync(f)) {
      res.writeHead(200, { "content-type": "application/octet-stream" });
      return res.end(fs.readFileSync(f));
    }
  }
  const n = url.match(/^\/([^/]+)$/);
  const p = n && req.method === "GET" && packument(n[1]);
  if (p) {
    res.writeHead(200, { "content-type": "application/json" });
    return res.end(JSON.stringify(p));
  }
  res.writeHead(404, { "content-type": "application/json" });
  res.end('{"error":"not_found"}');
}).listen(port, "0.0.0.0");

#!/usr/bin/python3
"""A real client of the dashboard's server, for spec/integration/serve_*_spec.lua.

Debian's python3-websockets for the WebSocket side; plain sockets where a
spec needs bytes no library would send (malformed HTTP, unmasked frames).
Each command prints one JSON object on stdout.

  wsclient.py login URL                       -> {cookie}
  wsclient.py http BASE PATH COOKIE [HEADERS_JSON] -> {status, headers, body}
  wsclient.py raw BASE HEX                    -> {response}: bytes sent as they are
  wsclient.py stream BASE COOKIE UNTIL_SEQ [SINCE]  -> {seqs, frames}
  wsclient.py resume BASE COOKIE LAST_SEQ KILLS     -> {seqs, reconnects, catchups}
  wsclient.py frames BASE COOKIE              -> what the server answered to
                                                 fragmented, masked, unmasked frames, pings, close
  wsclient.py slow BASE COOKIE SECONDS        -> {close_code, last_frame}: a client that does not read
  wsclient.py ws_status BASE COOKIE ORIGIN    -> {status}: the answer to an upgrade with that Origin
"""
import asyncio
import base64
import json
import os
import socket
import struct
import sys
import time
import urllib.request

import websockets


def hostport(base):
    hp = base.split("/")[2]
    h, p = hp.rsplit(":", 1)
    return h, int(p), hp


def request(base, path, cookie, headers=None):
    h, p, hp = hostport(base)
    hdrs = {"Host": hp}
    if cookie:
        hdrs["Cookie"] = cookie
    hdrs.update(headers or {})
    s = socket.create_connection((h, p), timeout=10)
    text = "GET %s HTTP/1.1\r\n" % path + "".join("%s: %s\r\n" % kv for kv in hdrs.items()) + "Connection: close\r\n\r\n"
    s.sendall(text.encode())
    data = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    s.close()
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ")[1])
    out = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        out[k.strip().lower()] = v.strip()
    return status, out, body


def login(url):
    base, _, query = url.partition("?")
    status, headers, _ = request(base, "/?" + query, None)
    cookie = headers.get("set-cookie", "").split(";")[0]
    return {"status": status, "cookie": cookie}


def raw(base, hexbytes):
    h, p, _ = hostport(base)
    s = socket.create_connection((h, p), timeout=10)
    s.sendall(bytes.fromhex(hexbytes))
    data = b""
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    except socket.timeout:
        pass
    s.close()
    return {"response": data.decode("latin-1")}


def ws_url(base, since):
    _, _, hp = hostport(base)
    return "ws://%s/ws?since=%d" % (hp, since), "http://" + hp


async def fetch_events(base, cookie, since):
    """Everything after since, from /api/events (paged)."""
    seqs = []
    while True:
        status, _, body = request(base, "/api/events?since=%d&limit=5000" % since, cookie)
        assert status == 200, status
        j = json.loads(body)
        for ev in j["events"]:
            seqs.append(ev["seq"])
        if j["next"] == since or j["next"] >= j["last"]:
            return seqs, j["next"]
        since = j["next"]


async def stream(base, cookie, until, since):
    url, origin = ws_url(base, since)
    seqs, frames = [], 0
    async with websockets.connect(url, extra_headers={"Cookie": cookie}, origin=origin, max_size=None) as ws:
        while not seqs or seqs[-1] < until:
            msg = await asyncio.wait_for(ws.recv(), 20)
            frames += 1
            for ev in json.loads(msg):
                seqs.append(ev["seq"])
    return {"seqs": seqs, "frames": frames}


async def resume(base, cookie, last, kills):
    """Read the live stream, dropping the connection (no close frame) `kills`
    times at random moments; reconnect with since= the last seq seen, and
    catch up from /api/events when told to."""
    seen, since, reconnects, catchups = [], 0, 0, 0
    import random
    rnd = random.Random(42)
    kill_at = sorted(rnd.randint(1, max(2, last - 1)) for _ in range(kills))
    while since < last:
        url, origin = ws_url(base, since)
        try:
            ws = await websockets.connect(url, extra_headers={"Cookie": cookie}, origin=origin, max_size=None)
        except Exception:
            await asyncio.sleep(0.05)
            continue
        reconnects += 1
        try:
            while since < last:
                msg = await asyncio.wait_for(ws.recv(), 30)
                evs = json.loads(msg)
                if evs and evs[0].get("type") == "catchup":
                    catchups += 1
                    got, since = await fetch_events(base, cookie, evs[0]["since"])
                    seen.extend(got)
                    break
                for ev in evs:
                    seen.append(ev["seq"])
                    since = ev["seq"]
                if kill_at and since >= kill_at[0]:
                    kill_at.pop(0)
                    ws.transport.abort()  # killed: no close frame
                    break
        except (websockets.ConnectionClosed, asyncio.TimeoutError):
            pass
        finally:
            try:
                ws.transport.abort()
            except Exception:
                pass
    return {"seqs_count": len(seen), "dups": len(seen) - len(set(seen)),
            "missing": sorted(set(range(1, last + 1)) - set(seen))[:20],
            "ordered": all(seen[i] < seen[i + 1] for i in range(len(seen) - 1)),
            "reconnects": reconnects, "catchups": catchups}


def handshake(base, cookie, origin=None, extra="", rcvbuf=None):
    h, p, hp = hostport(base)
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.settimeout(10)
    s.connect((h, p))
    key = base64.b64encode(os.urandom(16)).decode()
    req = ("GET /ws?since=0 HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
           "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\nOrigin: %s\r\nCookie: %s\r\n%s\r\n"
           % (hp, key, origin or ("http://" + hp), cookie, extra))
    s.sendall(req.encode())
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = s.recv(1)
        if not chunk:
            break
        data += chunk
    status = int(data.split(b" ")[1]) if data else 0
    return s, status, data.decode("latin-1"), key


def frame(op, payload, fin=True, mask=True):
    b0 = (0x80 if fin else 0) | op
    n = len(payload)
    if n < 126:
        hdr = struct.pack("!BB", b0, (0x80 if mask else 0) | n)
    elif n < 65536:
        hdr = struct.pack("!BBH", b0, (0x80 if mask else 0) | 126, n)
    else:
        hdr = struct.pack("!BBQ", b0, (0x80 if mask else 0) | 127, n)
    if not mask:
        return hdr + payload
    key = os.urandom(4)
    return hdr + key + bytes(c ^ key[i % 4] for i, c in enumerate(payload))


def read_frame(s):
    def exact(n):
        b = b""
        while len(b) < n:
            c = s.recv(n - len(b))
            if not c:
                raise EOFError
            b += c
        return b
    b0, b1 = exact(2)
    n = b1 & 0x7f
    if n == 126:
        n = struct.unpack("!H", exact(2))[0]
    elif n == 127:
        n = struct.unpack("!Q", exact(8))[0]
    if b1 & 0x80:
        raise ValueError("server frame masked")
    return b0 & 0x0f, bool(b0 & 0x80), exact(n)


def next_control(s, want):
    """Frames until one of opcode want (data frames skipped)."""
    while True:
        op, fin, data = read_frame(s)
        if op == want or op == 0x8:
            return op, data


def frames(base, cookie):
    out = {}
    s, status, head, key = handshake(base, cookie)
    out["status"] = status
    expect = base64.b64encode(__import__("hashlib").sha1((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest()).decode()
    out["accept_ok"] = ("Sec-WebSocket-Accept: " + expect) in head
    # a text message in three fragments, a ping between them: the pong comes, the socket stays up
    s.sendall(frame(0x1, b"he", fin=False) + frame(0x9, b"mid") + frame(0x0, b"ll", fin=False) + frame(0x0, b"o"))
    op, data = next_control(s, 0xA)
    out["pong_between_fragments"] = data.decode() if op == 0xA else None
    s.sendall(frame(0x9, b"ping-payload"))
    op, data = next_control(s, 0xA)
    out["pong"] = data.decode() if op == 0xA else None
    # a normal close: the same code back
    s.sendall(frame(0x8, struct.pack("!H", 1000) + b"bye"))
    op, data = next_control(s, 0x8)
    out["close_echo"] = struct.unpack("!H", data[:2])[0] if op == 0x8 and len(data) >= 2 else None
    s.close()
    # an unmasked client frame: protocol error 1002
    s, _, _, _ = handshake(base, cookie)
    s.sendall(frame(0x1, b"x", mask=False))
    op, data = next_control(s, 0x8)
    out["unmasked_close"] = struct.unpack("!H", data[:2])[0] if op == 0x8 else None
    s.close()
    # a continuation without a message: 1002; a bad close code: 1002
    s, _, _, _ = handshake(base, cookie)
    s.sendall(frame(0x0, b"x"))
    op, data = next_control(s, 0x8)
    out["orphan_continuation_close"] = struct.unpack("!H", data[:2])[0] if op == 0x8 else None
    s.close()
    s, _, _, _ = handshake(base, cookie)
    s.sendall(frame(0x1, b"\xff\xfe"))
    op, data = next_control(s, 0x8)
    out["bad_utf8_close"] = struct.unpack("!H", data[:2])[0] if op == 0x8 else None
    s.close()
    # too big a message: 1009
    s, _, _, _ = handshake(base, cookie)
    s.sendall(frame(0x1, b"a" * 70000))
    op, data = next_control(s, 0x8)
    out["too_big_close"] = struct.unpack("!H", data[:2])[0] if op == 0x8 else None
    s.close()
    return out


def slow(base, cookie, seconds):
    """Never read for `seconds` (a tiny receive buffer), then read what came."""
    s, status, _, _ = handshake(base, cookie, rcvbuf=4096)
    time.sleep(seconds)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    s.settimeout(30)
    last, code, nframes = None, None, 0
    try:
        while True:
            op, fin, data = read_frame(s)
            if op == 0x8:
                code = struct.unpack("!H", data[:2])[0]
                break
            nframes += 1
            last = data.decode()
    except (EOFError, socket.timeout, ConnectionResetError):
        pass
    return {"status": status, "close_code": code, "last_frame": last, "frames": nframes}


def ws_status(base, cookie, origin):
    s, status, head, _ = handshake(base, cookie, origin=origin)
    s.close()
    return {"status": status}


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "login":
        r = login(args[0])
    elif cmd == "http":
        st, hd, body = request(args[0], args[1], args[2], json.loads(args[3]) if len(args) > 3 else None)
        r = {"status": st, "headers": hd, "body": body.decode("utf-8", "replace")}
    elif cmd == "raw":
        r = raw(args[0], args[1])
    elif cmd == "stream":
        r = asyncio.run(stream(args[0], args[1], int(args[2]), int(args[3]) if len(args) > 3 else 0))
    elif cmd == "resume":
        r = asyncio.run(resume(args[0], args[1], int(args[2]), int(args[3])))
    elif cmd == "frames":
        r = frames(args[0], args[1])
    elif cmd == "slow":
        r = slow(args[0], args[1], float(args[2]))
    elif cmd == "ws_status":
        r = ws_status(args[0], args[1], args[2])
    else:
        raise SystemExit("unknown command " + cmd)
    print(json.dumps(r))


if __name__ == "__main__":
    main()

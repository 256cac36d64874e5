#!/usr/bin/env python3
"""Ansible's answer for inventories: `ansible-inventory -i INV --list`, as a
canonical, typed document that spec/helpers/inventory_canon.lua compares with
luasible's.

    python3 spec/helpers/inventory_oracle.py --cache DIR INV...

prints one JSON object {INV: answer} (an INV "a|b" is several sources,
`-i a -i b`, merged in order); an answer is

    {"version": "2.14.18", "error": null | "what Ansible said",
     "failures": ["ini: file:9: Section [a:children] includes undefined group: b", ...],
     "groups": {"all": {"hosts": [...], "children": [...]}, ...},   # every group
     "hostvars": {"host": {"var": "<canonical value>"}, ...}}       # every host

A canonical value is a string that tells the type: null, true, false,
int:5, float:<%.17g>, "a string" (JSON-quoted, only " \\ and control
characters escaped), [v,...], {"key":v,...} (keys sorted).

ansible-inventory runs once per inventory (two at a time), in an empty
folder, with no ANSIBLE_* variable of the caller, no configuration file
and its own ANSIBLE_HOME, its messages unwrapped; the answers are cached in
DIR, keyed by this file, Ansible's version and the bytes of every file the
inventory reads (the inventory, or the folder, and the group_vars/ and
host_vars/ beside it).
"""
import concurrent.futures
import hashlib
import json
import os
import subprocess
import sys
import tempfile


def canon(v):
    if v is None:
        return "null"
    if v is True:
        return "true"
    if v is False:
        return "false"
    if isinstance(v, int):
        return "int:%d" % v
    if isinstance(v, float):
        return "float:nan" if v != v else "float:%.17g" % v
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, list):
        return "[" + ",".join(canon(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ",".join(json.dumps(str(k), ensure_ascii=False) + ":" + canon(v[k])
                              for k in sorted(v, key=str)) + "}"
    return "?" + type(v).__name__ + ":" + str(v)


def tree_files(path):
    """(relative name, bytes) of a file, or of every file under a folder."""
    if os.path.isfile(path):
        with open(path, "rb") as f:
            return [(os.path.basename(path), f.read())]
    out = []
    for root, dirs, files in os.walk(path, followlinks=True):
        dirs.sort()
        for name in sorted(files):
            full = os.path.join(root, name)
            try:
                with open(full, "rb") as f:
                    out.append((os.path.relpath(full, path), f.read()))
            except OSError:
                pass
    return out


def cache_key(invs, version):
    h = hashlib.sha256()
    with open(__file__, "rb") as f:
        h.update(f.read())
    h.update(version.encode())
    for inv in invs.split("|"):
        h.update(b"\0source\0" + inv.encode("utf-8", "surrogateescape"))
        key_parts(h, inv)
    return h.hexdigest()


def key_parts(h, inv):
    base = inv if os.path.isdir(inv) else os.path.dirname(inv) or "."
    parts = [("inv", inv)] + ([] if os.path.isdir(inv) else
                              [("group_vars", os.path.join(base, "group_vars")),
                               ("host_vars", os.path.join(base, "host_vars"))])
    for tag, p in parts:
        if os.path.exists(p):
            for name, data in tree_files(p):
                h.update(b"\0%s/%s\0%d\0" % (tag.encode(), name.encode("utf-8", "surrogateescape"), len(data)))
                h.update(data)
                h.update(b"x" if os.access(os.path.join(p, name) if os.path.isdir(p) else p, os.X_OK) else b"-")


def answer(stdout, stderr, rc, version):
    failures, error = [], None
    for line in stderr.splitlines():
        line = line.strip()
        if line.startswith("[WARNING]:") and "* Failed to parse" in line:
            msg = line.split("* Failed to parse", 1)[1]
            # " SRC with PLUGIN plugin: MESSAGE"
            head, _, rest = msg.partition(" plugin: ")
            failures.append(head.rsplit(" with ", 1)[-1] + ": " + rest.strip())
        elif line.startswith("ERROR!") or line.startswith("[ERROR]:"):
            error = (error + " " if error else "") + line.split(None, 1)[1]
    if rc != 0:
        return {"version": version, "error": error or "exit %d" % rc, "failures": failures,
                "groups": {}, "hostvars": {}}
    data = json.loads(stdout)
    groups, hostvars = {}, {}

    def group(name):
        if name in groups:
            return
        g = data.get(name, {})
        groups[name] = {"hosts": list(g.get("hosts", [])), "children": list(g.get("children", []))}
        for h in groups[name]["hosts"]:
            hostvars.setdefault(h, {})
        for c in groups[name]["children"]:
            group(c)
    group("all")
    for h, vs in data.get("_meta", {}).get("hostvars", {}).items():
        hostvars[h] = {k: canon(v) for k, v in vs.items()}
    return {"version": version, "error": None, "failures": failures, "groups": groups, "hostvars": hostvars}


def run(inv, version):
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_")}
    with tempfile.TemporaryDirectory(prefix="luasible-oracle.") as tmp:
        cfg = os.path.join(tmp, "ansible.cfg")
        open(cfg, "w").close()
        env.update(ANSIBLE_CONFIG=cfg, ANSIBLE_HOME=os.path.join(tmp, "home"), ANSIBLE_NOCOLOR="1",
                   ANSIBLE_LOCAL_TEMP=os.path.join(tmp, "tmp"), ANSIBLE_INVENTORY_UNPARSED_FAILED="1",
                   PYTHONWARNINGS="ignore")
        p = subprocess.run([sys.executable, os.path.abspath(__file__), "--child"]
                           + [os.path.abspath(i) for i in inv.split("|")],
                           cwd=tmp, env=env, capture_output=True, text=True, errors="surrogateescape")
    return answer(p.stdout, p.stderr, p.returncode, version)


def child(invs):
    """ansible-inventory -i INV... --list, its messages on one line each."""
    import warnings
    warnings.simplefilter("ignore")
    from ansible.utils import display
    display.Display._set_column_width = lambda self: setattr(self, "columns", 1 << 20)
    display.Display().columns = 1 << 20
    from ansible.cli.inventory import main
    sys.argv = ["ansible-inventory"] + [w for inv in invs for w in ("-i", inv)] + ["--list"]
    sys.exit(main())


def main(argv):
    if argv[:1] == ["--child"]:
        return child(argv[1:])
    if argv[:1] != ["--cache"] or len(argv) < 2:
        sys.stderr.write(__doc__)
        return 2
    cache, invs = argv[1], argv[2:]
    from ansible.release import __version__ as version
    os.makedirs(cache, exist_ok=True)
    out, todo = {}, []
    for inv in invs:
        f = os.path.join(cache, cache_key(inv, version) + ".json")
        if os.path.exists(f):
            with open(f) as fh:
                out[inv] = json.load(fh)
        else:
            todo.append((inv, f))
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        for (inv, f), res in zip(todo, pool.map(lambda t: run(t[0], version), todo)):
            out[inv] = res
            with open(f + ".tmp", "w") as fh:
                json.dump(res, fh)
            os.replace(f + ".tmp", f)
    json.dump(out, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

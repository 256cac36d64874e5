#!/usr/bin/python3
"""Ansible's own answers for filter and test calls (the #oracle specs of
template/filters and template/tests): reads a JSON list of cases on stdin,
each {"name", "test": bool, "v" (absent: undefined), "args": [...],
"kw": [[name, value], ...]}, renders `{{ (v | name(args, kw)) | to_json }}`
(or `v is name(...)`) with ansible-core's Templar, and writes a JSON list
of {"ok": text} or {"err": first line of the error} in the same order."""
import json
import sys

from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar

cases = json.load(sys.stdin)
templar = Templar(loader=DataLoader(), variables={})
out = []
for c in cases:
    variables = {}
    if "v" in c:
        variables["v"] = c["v"]
    argtext = []
    for i, a in enumerate(c.get("args", [])):
        variables["a%d" % i] = a
        argtext.append("a%d" % i)
    for i, (k, x) in enumerate(c.get("kw", [])):
        variables["k%d" % i] = x
        argtext.append("%s=k%d" % (k, i))
    call = c["name"] + ("(%s)" % ", ".join(argtext) if argtext else "")
    expr = ("(v is %s)" if c.get("test") else "(v | %s)") % call
    templar.available_variables = variables
    try:
        r = templar.template("@{{ %s | to_json }}" % expr)
        out.append({"ok": r[1:]})
    except Exception as e:  # any error: the spec checks that luasible refuses too
        out.append({"err": (str(e).split("\n") or [""])[0][:300]})
json.dump(out, sys.stdout)

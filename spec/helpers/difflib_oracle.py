#!/usr/bin/python3
"""The oracle of spec/unit/diff_spec.lua: Python's difflib as Ansible uses it.

Reads a JSON list of cases from argv[1]: each {"before": text, "after": text,
"before_header"?, "after_header"?}; writes a JSON list of answers to stdout:
{"unified": difflib.unified_diff over splitlines(True) joined, "splitlines": [...],
"entry": the text of Ansible's callback _get_diff for the case (no colour)}.
"""
import json
import sys

from ansible.plugins.callback import CallbackBase


class _CB(CallbackBase):
    def __init__(self):  # no display, no options: only _get_diff is used
        pass

    def get_option(self, k):
        raise KeyError(k)


def main():
    with open(sys.argv[1], encoding="utf-8", errors="surrogateescape") as f:
        cases = json.load(f)
    cb = _CB()
    import difflib
    out = []
    for c in cases:
        a, b = c.get("before"), c.get("after")
        r = {"entry": cb._get_diff(dict(c))}
        if isinstance(a, str) and isinstance(b, str):
            r["unified"] = "".join(difflib.unified_diff(a.splitlines(True), b.splitlines(True), "A", "B", n=3))
            r["splitlines"] = a.splitlines(True)
        out.append(r)
    json.dump(out, sys.stdout)


main()

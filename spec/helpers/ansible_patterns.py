#!/usr/bin/python3
"""Ansible's answers for host patterns, many at once (one process per
inventory instead of one `ansible PATTERN --list-hosts` per pattern).

    /usr/bin/python3 spec/helpers/ansible_patterns.py < jobs.json

stdin: a JSON list of jobs {"source": INVENTORY, "patterns": [...]}.
stdout: a JSON list, one object a job:
  groups:   {name: {"hosts": [own hosts], "children": [child groups]}}
  patterns: [{"pattern": p, "hosts": [...]} or {"pattern": p, "error": msg},
             each with "unmatched": [terms Ansible warned about]]
  warnings: what Ansible warned about while loading the source

It calls what `ansible --list-hosts` calls (InventoryManager.get_hosts),
with one change: Group._walk_relationship iterates a set of groups where
ansible-core 2.14 builds a group's host order, so that order changes from
run to run when two groups at one depth both have children; here those
groups are taken in the order they were reached (breadth first, in the
sources' order), the order luasible gives every time. Nothing else differs.
"""
import json
import sys
from itertools import chain

from ansible.errors import AnsibleError
from ansible.inventory.group import Group
from ansible.inventory.manager import InventoryManager
from ansible.parsing.dataloader import DataLoader
from ansible.utils.display import Display

_walk = Group._walk_relationship


def _ordered_walk(self, rel, include_self=False, preserve_ordering=False):
    if not preserve_ordering:
        return _walk(self, rel, include_self=include_self, preserve_ordering=False)
    ordered = ([self] if include_self else []) + list(getattr(self, rel))
    seen = set(ordered)
    level = list(ordered)
    if include_self and self not in level:
        level.insert(0, self)
    while level:
        nxt = []
        for item in chain.from_iterable(getattr(g, rel) for g in level):
            if item not in seen:
                seen.add(item)
                ordered.append(item)
                nxt.append(item)
        level = nxt
    return ordered


Group._walk_relationship = _ordered_walk

WARNINGS = []
MISMATCH = "Could not match supplied host pattern, ignoring: "


def _warning(self, msg, formatted=False):
    WARNINGS.append(msg)


Display.warning = _warning


def answer(source, patterns):
    del WARNINGS[:]
    inv = InventoryManager(DataLoader(), sources=[source])
    loading = list(WARNINGS)
    groups = {}
    for name, g in inv.groups.items():
        groups[name] = {"hosts": [h.name for h in g.hosts], "children": [c.name for c in g.child_groups]}
    results = []
    for p in patterns:
        del WARNINGS[:]
        inv.clear_pattern_cache()
        inv._hosts_patterns_cache = {}
        r = {"pattern": p}
        try:
            r["hosts"] = [h.name for h in inv.get_hosts(p)]
        except AnsibleError as e:
            r["error"] = str(e)
        r["unmatched"] = [w[len(MISMATCH):] for w in WARNINGS if w.startswith(MISMATCH)]
        results.append(r)
    return {"groups": groups, "patterns": results, "warnings": loading}


def main():
    jobs = json.load(sys.stdin)
    json.dump([answer(j["source"], j["patterns"]) for j in jobs], sys.stdout, ensure_ascii=False)


if __name__ == "__main__":
    main()

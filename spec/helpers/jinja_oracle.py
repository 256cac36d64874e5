#!/usr/bin/python3
"""Ansible's answers for templates and expressions (the #oracle corpus of
spec/fixtures/jinja/*.yml; spec/helpers/jinja_oracle.lua is the other half).

    python3 spec/helpers/jinja_oracle.py [--cache DIR] < requests > answers

One process answers many requests: it reads JSON lines on stdin and writes
one JSON line per case on stdout, flushed, so a caller may keep it running
and talk to it, or pipe a whole batch through it. A request is

    {"file": "spec/fixtures/jinja/expr.yml"}     every case of a corpus file
    {"case": {...}, "base": DIR}                 one case given inline (vars as JSON)

and each answer {"file", "n" (the case's index, 1-based), "id",
"ok": RESULT} or {..., "err": "the first line of Ansible's error"}, then
{"done": FILE} after the last case of a file.

A case is a mapping with one of these keys, which gives its mode:

    expr:     an expression; RESULT is its value, canonical (below): Ansible's
              Templar (jinja2_native=True, as for value:) renders
              {{ ORACLE_CANON((EXPR)) }} (backslashes as written: the
              expression as a template file holds it)
    value:    a string of a play or a module argument, rendered as Ansible
              does with jinja2_native=True (Templar.template, its backslash
              escaping of play strings included): a single {{ expr }}
              keeps its type; RESULT canonical
    when:     a condition (when:, changed_when:, ...) as Ansible's
              Conditional evaluates it (jinja2_native=True); RESULT "true"
              or "false"
    template: the text of a template file rendered as the template module
              renders it (AnsibleEnvironment, trim_blocks on, lstrip_blocks
              off, the #jinja2: header, trailing newlines kept, search path
              BASE/templates and BASE for include/import); RESULT the text
    jinja:    the same text rendered by plain jinja2 (Environment with
              StrictUndefined, keep_trailing_newline, Jinja's own defaults
              otherwise: trim_blocks off); RESULT the text

Every mode but template and jinja is Ansible with jinja2_native=True, the
issue's typed values: a variable whose value is a template ("{{ 1 + 1 }}")
gives its native value there too. The template module forces Ansible's
string environment, as Ansible's does.

plus `vars:` (`omit`, then the file's `vars:` mapping, then the case's, key by key).
The corpus files are read with Ansible's DataLoader, as Ansible reads vars
files. BASE is the folder of the corpus file: the DataLoader's basedir (the
file, template, ... lookups search BASE/files, BASE/templates and BASE).

A canonical value is a string that tells the type: null, true, false, int:5,
float:<%.17g>, "text" (JSON), [v,...], {"key":v,...} (keys sorted). Lazy
sequences (generators, map/select results, range, dict views) and tuples are
lists; unsafe and Markup text is text.

Answers are cached in DIR (default build/oracle-cache) as DIR/jinja-NAME.json
per corpus file: {key: answer}, the key a SHA-256 of this file, the versions
of ansible-core and Jinja2, BASE, the case (mode, source, vars) and every file
under BASE/files and BASE/templates.
"""
import hashlib
import json
import os
import sys
import warnings

warnings.simplefilter("ignore")
os.environ.setdefault("ANSIBLE_NOCOLOR", "1")
os.environ.setdefault("ANSIBLE_DEPRECATION_WARNINGS", "False")

# the play's `omit` (Ansible's is __omit_place_holder__ and a random SHA-1)
OMIT = "__omit_place_holder__" + "0" * 40
MODES = ("expr", "value", "when", "template", "jinja")


def canon(v):
    import jinja2
    if isinstance(v, jinja2.Undefined):
        v._fail_with_undefined_error()
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
        return json.dumps(str(v), ensure_ascii=False)
    if isinstance(v, bytes):
        return json.dumps(v.decode("utf-8", "surrogateescape"), ensure_ascii=False)
    if isinstance(v, dict) or hasattr(v, "keys") and hasattr(v, "__getitem__"):
        return "{" + ",".join(json.dumps(str(k), ensure_ascii=False) + ":" + canon(v[k])
                              for k in sorted(v.keys(), key=str)) + "}"
    if hasattr(v, "__iter__"):
        return "[" + ",".join(canon(x) for x in v) + "]"
    return "?" + type(v).__name__ + ":" + str(v)


def first_line(e):
    msg = str(e).strip()
    return (msg.split("\n") or [""])[0][:400]


class Oracle:
    def __init__(self):
        from ansible.release import __version__ as ansible_version
        import jinja2
        self.version = ansible_version + "/jinja2 " + jinja2.__version__
        self.loaders = {}

    def loader(self, base):
        from ansible.parsing.dataloader import DataLoader
        if base not in self.loaders:
            dl = DataLoader()
            dl.set_basedir(base)
            self.loaders[base] = dl
        return self.loaders[base]

    def templar(self, base, variables, native=False):
        from ansible.template import Templar, AnsibleEnvironment
        from ansible.template.native_helpers import AnsibleUndefined  # noqa: F401
        t = Templar(loader=self.loader(base), variables=variables)
        if native:
            from ansible.template import AnsibleNativeEnvironment
            t = t.copy_with_new_env(environment_class=AnsibleNativeEnvironment)
        else:
            t = t.copy_with_new_env(environment_class=AnsibleEnvironment)
        # "\x01" + canonical text: no literal_eval of native concat can parse it
        t.environment.globals["ORACLE_CANON"] = lambda v: "\x01" + canon(v)
        return t

    def evaluate(self, mode, src, variables, base):
        if mode == "expr":
            t = self.templar(base, variables, native=True)
            out = t.template("{{ ORACLE_CANON((%s)) }}" % src, escape_backslashes=False)
            return out[1:]
        if mode == "value":
            t = self.templar(base, variables, native=True)
            return canon(t.template(src))
        if mode == "when":
            from ansible.playbook.conditional import Conditional
            t = self.templar(base, variables, native=True)
            c = Conditional(loader=self.loader(base))
            c.when = [src]
            return "true" if c.evaluate_conditional(t, variables) else "false"
        if mode == "template":
            t = self.templar(base, variables)
            search = [os.path.join(base, "templates"), base]
            t = t.copy_with_new_env(searchpath=search, trim_blocks=True, lstrip_blocks=False,
                                    available_variables=variables)
            return t.do_template(src, preserve_trailing_newlines=True, escape_backslashes=False)
        if mode == "jinja":
            import jinja2
            env = jinja2.Environment(undefined=jinja2.StrictUndefined, keep_trailing_newline=True,
                                     loader=jinja2.FileSystemLoader([os.path.join(base, "templates"), base]))
            return env.from_string(src).render(variables)
        raise ValueError("case has no mode (one of %s)" % ", ".join(MODES))

    def answer(self, case, base, file_vars):
        mode = next((m for m in MODES if m in case), None)
        variables = {"omit": OMIT}
        variables.update(file_vars or {})
        variables.update(case.get("vars") or {})
        try:
            if mode is None:
                raise ValueError("case has no mode (one of %s)" % ", ".join(MODES))
            return {"ok": self.evaluate(mode, case[mode], variables, base)}
        except Exception as e:  # Ansible refused it: luasible must refuse too
            return {"err": first_line(e) or type(e).__name__}


def files_digest(base):
    h = hashlib.sha256()
    for sub in ("files", "templates"):
        root0 = os.path.join(base, sub)
        for root, dirs, names in os.walk(root0):
            dirs.sort()
            for name in sorted(names):
                full = os.path.join(root, name)
                with open(full, "rb") as f:
                    data = f.read()
                h.update(b"\0%s\0%d\0" % (os.path.relpath(full, base).encode(), len(data)))
                h.update(data)
    return h.hexdigest()


def case_key(prefix, mode_src, variables):
    h = hashlib.sha256(prefix.encode())
    h.update(json.dumps([mode_src, variables], default=repr).encode())
    return h.hexdigest()


def main(argv):
    cache = "build/oracle-cache"
    if argv[:1] == ["--cache"] and len(argv) > 1:
        cache = argv[1]
    elif argv:
        sys.stderr.write(__doc__)
        return 2
    oracle = Oracle()
    with open(__file__, "rb") as f:
        me = hashlib.sha256(f.read()).hexdigest()
    os.makedirs(cache, exist_ok=True)
    out = sys.stdout

    def emit(obj):
        out.write(json.dumps(obj, ensure_ascii=False) + "\n")
        out.flush()

    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        req = json.loads(line)
        if "case" in req:
            base = os.path.abspath(req.get("base") or ".")
            res = oracle.answer(req["case"], base, {})
            res.update(file=None, n=1, id=req["case"].get("id"))
            emit(res)
            emit({"done": None})
            continue
        path = req["file"]
        base = os.path.abspath(os.path.dirname(path))
        data = oracle.loader(base).load_from_file(os.path.abspath(path)) or {}
        prefix = me + "\0" + oracle.version + "\0" + base + "\0" + files_digest(base)
        cfile = os.path.join(cache, "jinja-" + os.path.basename(path).rsplit(".", 1)[0] + ".json")
        try:
            with open(cfile) as f:
                old = json.load(f)
        except (OSError, ValueError):
            old = {}
        new = {}
        file_vars = data.get("vars") or {}
        for n, case in enumerate(data.get("cases") or [], 1):
            mode = next((m for m in MODES if m in case), None)
            variables = dict(file_vars)
            variables.update(case.get("vars") or {})
            key = case_key(prefix, [mode, case.get(mode) if mode else None], variables)
            res = old.get(key)
            if res is None:
                res = oracle.answer(case, base, file_vars)
            new[key] = res
            emit(dict(res, file=path, n=n, id=case.get("id")))
        tmp = "%s.%d.tmp" % (cfile, os.getpid())
        with open(tmp, "w") as f:
            json.dump(new, f)
        os.replace(tmp, cfile)
        emit({"done": path})
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

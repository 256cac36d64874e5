"""bench/template_bench.py: Python's Jinja2 side of bench/template_bench.lua.

argv: a JSON file {template, exprs, vars, renders, evals}. Does the same work
as the Lua side: compile the template once and render it `renders` times;
compile each expression once and evaluate it `evals` times. Prints JSON
{compile_t, render, compile_e, eval, text_len, checksum}.
"""
import json
import sys
import time

import jinja2

with open(sys.argv[1]) as f:
    job = json.load(f)

env = jinja2.Environment(trim_blocks=True, undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
variables = job["vars"]

t0 = time.process_time()
tmpl = env.from_string(job["template"])
t1 = time.process_time()
text = ""
for _ in range(job["renders"]):
    text = tmpl.render(variables)
t2 = time.process_time()

compiled = [env.compile_expression(e) for e in job["exprs"]]
t3 = time.process_time()
checksum = 0
for _ in range(job["evals"]):
    for f in compiled:
        v = f(variables)
        if v is True:
            checksum += 1
t4 = time.process_time()
print(json.dumps({"compile_t": t1 - t0, "render": t2 - t1, "compile_e": t3 - t2, "eval": t4 - t3,
                  "text_len": len(text.encode("utf-8")), "checksum": checksum}))

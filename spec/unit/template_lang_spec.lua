-- The template language (issue 11): expressions, statements, whitespace,
-- as Python's Jinja2 renders them. The expected texts were computed by
-- python3-jinja2 (Environment(trim_blocks=True, undefined=StrictUndefined,
-- keep_trailing_newline=True); LSTRIP: lstrip_blocks=True too) and are
-- checked against luasible's plain-Jinja mode (opts.jinja). The oracle
-- corpus (spec/fixtures/jinja, #oracle) compares with Ansible at run time.
-- luacheck: no max line length
local T = require "luasible.template"

local VARS = { l = { 1, 2, 3 }, s = "hello", u = "héllo", d = nil,
  tree = { { n = "a", c = { { n = "b", c = {} }, { n = "c", c = { { n = "d", c = {} } } } } } } }
do
  local values = require "luasible.template.values"
  local d = values.mapping()
  values.set(d, "a", 1)
  values.set(d, "b", 2)
  VARS.d = d
end

local CASES = {
  { "{{ 1 + 2 * 3 }}", "7" },
  { "{{ (1 + 2) * 3 }}", "9" },
  { "{{ 2 ** 3 ** 2 }}", "64" },
  { "{{ -2 ** 2 }}", "4" },
  { "{{ 7 // 2 }} {{ -7 // 2 }} {{ 7 % -3 }} {{ 7 / 2 }} {{ 6 / 2 }}", "3 -4 -2 3.5 3.0" },
  { "{{ 1 + 2.0 }} {{ 3 * 'ab' }} {{ [1] * 3 }} {{ [1, 2] + [3] }} {{ 'a' + 'b' }}", "3.0 ababab [1, 1, 1] [1, 2, 3] ab" },
  { "{{ 1 < 2 < 3 }} {{ 3 > 2 > 2 }} {{ 1 == 1.0 }} {{ 'a' != 'b' }} {{ [1, 2] < [1, 3] }}", "True False True True True" },
  { "{{ 'b' in 'abc' }} {{ 2 in [1, 2] }} {{ 'k' in {'k': 1} }} {{ 3 not in [1] }}", "True True True True" },
  { "{{ 0 or 'x' }} {{ 1 and 'y' }} {{ '' or [] }} {{ not 0 }} {{ none or 5 }}", "x y [] True 5" },
  { "{{ 'yes' if 1 > 0 else 'no' }} {{ 'a' if false else 'b' if true else 'c' }}", "yes b" },
  { "{{ l[0] }} {{ l[-1] }} {{ l[1:] }} {{ l[:-1] }} {{ l[::-1] }} {{ l[::2] }} {{ l[5:] }}", "1 3 [2, 3] [1, 2] [3, 2, 1] [1, 3] []" },
  { "{{ s[0] }} {{ s[-1] }} {{ s[1:3] }} {{ s[::-1] }} {{ u[1] }} {{ u[1:3] }} {{ u | length }}", "h o el olleh é él 5" },
  { "{{ d.a }} {{ d['a'] }} {{ d.items() | list }} {{ d.keys() | list }} {{ d.values() | list }} {{ d.get('z', 9) }} {{ d.get('a') }}", "1 1 [('a', 1), ('b', 2)] ['a', 'b'] [1, 2] 9 1" },
  { "{{ 'a,b,,c'.split(',') }} {{ ' x y '.split() }} {{ 'a b c'.split(None, 1) }} {{ 'a,b,c'.rsplit(',', 1) }}", "['a', 'b', '', 'c'] ['x', 'y'] ['a', 'b c'] ['a,b', 'c']" },
  { "{{ '  x  '.strip() }}|{{ 'xxhixx'.strip('x') }}|{{ '  x'.lstrip() }}|{{ 'x  '.rstrip() }}|", "x|hi|x|x|" },
  { "{{ 'abc'.startswith('ab') }} {{ 'abc'.endswith(('x', 'c')) }} {{ 'aaa'.replace('a', 'b', 2) }} {{ 'Hello'.lower() }} {{ 'hello world'.title() }} {{ 'hELLO'.capitalize() }}", "True True bba hello Hello World Hello" },
  { "{{ '{} and {}'.format(1, 'x') }} {{ '{0}-{0}'.format('a') }} {{ '{n:>4}|{f:.2f}'.format(n=7, f=3.14159) }} {{ ','.join(['a', 'b']) }}", "1 and x a-a    7|3.14 a,b" },
  { "{{ 'banana'.count('a') }} {{ 'banana'.index('n') }} {{ 'banana'.find('z') }} {{ 'a\nb\n'.splitlines() }} {{ '123'.isdigit() }} {{ 'a1'.isalpha() }}", "3 2 -1 ['a', 'b'] True False" },
  { "{{ '%s=%d' % ('x', 5) }} {{ '%05.1f' % 3.14159 }} {{ '%(a)s' % {'a': 1} }}", "x=5 003.1 1" },
  { "{{ (1, 2) }} {{ (1,) }} {{ () }} {{ {'a': [1, 2.5, none, true, 'q']} }} {{ 1e3 }} {{ 0.1 }} {{ 10 / 4 }}", "(1, 2) (1,) () {'a': [1, 2.5, None, True, 'q']} 1000.0 0.1 2.5" },
  { "{{ \"it's\" }} {{ 'say \"hi\"' }} {{ 'tab\\tnew' }} {{ '\\x41\\u00e9' }}", "it's say \"hi\" tab\tnew Aé" },
  { "{{ range(3) | list }} {{ range(1, 10, 3) | list }} {{ range(5, 0, -2) | list }} {{ dict(a=1, b=2) }} {{ dict([('x', 1)]) }}", "[0, 1, 2] [1, 4, 7] [5, 3, 1] {'a': 1, 'b': 2} {'x': 1}" },
  { "{{ x is defined }} {{ x is undefined }} {{ l is iterable }} {{ 3 is odd }} {{ 'a' is string }} {{ none is none }} {{ d is mapping }} {{ 4 is divisibleby 2 }} {{ 1 is not even }}", "False True True True True True True True True" },
  { "{{ x | default('dflt') }} {{ '' | default('e', true) }} {{ l | join('-') }} {{ s | upper | reverse | list | join }}", "dflt e 1-2-3 OLLEH" },
  { "{{ l | map('string') | join(',') }} {{ l | select('odd') | list }} {{ [3, 1, 2] | sort(reverse=true) }}", "1,2,3 [1, 3] [3, 2, 1]" },
  { "{% for x in l %}{{ loop.index }}{{ loop.index0 }}{{ loop.first }}{{ loop.last }}{{ loop.length }}{{ loop.revindex }}{{ loop.revindex0 }};{% endfor %}", "10TrueFalse332;21FalseFalse321;32FalseTrue310;" },
  { "{% for x in l %}{{ loop.cycle('a', 'b') }}{% if not loop.first %}{{ loop.previtem }}{% endif %}{% endfor %}", "ab1a2" },
  { "{% for x in l %}{% if not loop.last %}{{ loop.nextitem }}{% endif %}{% endfor %}", "23" },
  { "{% for k, v in d.items() %}{{ k }}={{ v }};{% endfor %}", "a=1;b=2;" },
  { "{% for x in [] %}x{% else %}empty{% endfor %} {% for x in l if x > 1 %}{{ x }}{{ loop.length }}{% endfor %}", "empty 2232" },
  { "{% for a in [1, 2] %}{% for b in 'xy' %}{{ a }}{{ b }}{{ loop.depth }}{% endfor %}{% endfor %}", "1x11y12x12y1" },
  { "{% for c in 'héllo' %}[{{ c }}]{% endfor %}", "[h][é][l][l][o]" },
  { "{% set x = 1 %}{% for i in l %}{% set x = x + i %}{% endfor %}{{ x }}", "1" },
  { "{% set ns = namespace(t=0) %}{% for i in l %}{% set ns.t = ns.t + i %}{% endfor %}{{ ns.t }}", "6" },
  { "{% set a, b = 1, 2 %}{{ b }}{{ a }} {% set t %}block {{ a }}{% endset %}{{ t | upper }}", "21 BLOCK 1" },
  { "{% if false %}a{% elif 0 %}b{% elif 'x' %}c{% else %}d{% endif %}", "c" },
  { "{% macro m(a, b='B') %}<{{ a }}{{ b }}>{% endmacro %}{{ m(1) }}{{ m(1, 2) }}{{ m(b=3, a=4) }}", "<1B><12><43>" },
  { "{% macro m() %}{{ varargs }}{{ kwargs }}{% endmacro %}{{ m(1, 2, k=3) }}", "(1, 2){'k': 3}" },
  { "{% macro w(cls) %}<div class={{ cls }}>{{ caller() }}</div>{% endmacro %}{% call w('c') %}inner{% endcall %}", "<div class=c>inner</div>" },
  { "{% macro l2(items) %}{% for i in items %}{{ caller(i) }}{% endfor %}{% endmacro %}{% call(x) l2([1, 2]) %}<{{ x }}>{% endcall %}", "<1><2>" },
  { "{% macro fact(n) %}{% if n <= 1 %}1{% else %}{{ n * fact(n - 1) | int }}{% endif %}{% endmacro %}{{ fact(5) }}", "120" },
  { "{% filter upper %}shout {{ s }}{% endfilter %}", "SHOUT HELLO" },
  { "{% raw %}{{ not }} {% rendered %}{% endraw %}", "{{ not }} {% rendered %}" },
  { "{% with a = 5, b = 6 %}{{ a + b }}{% endwith %}", "11" },
  { "{# a comment #}text{# another\nline #}", "text" },
  { "{% for x in tree recursive %}{{ x.n }}{% if x.c %}({{ loop(x.c) }}){% endif %}{% endfor %}", "a(bc(d))" },
  { "a  {{- 'b' -}}  c", "abc" },
  { "x\n  {%- if true %}\ny\n  {%- endif %}\nz", "xyz" },
  { "{% for i in l %}\n{{ i }}\n{% endfor %}\n", "1\n2\n3\n" },
  { "  {% if true %}\nindented\n  {% endif %}\n", "  indented\n  " },
  { "LSTRIP{% for i in l %}\n{{ i }}\n{% endfor %}\n", "1\n2\n3\n" },
  { "LSTRIP  {% if true %}\nindented\n  {% endif %}\n", "indented\n" },
}

describe("template language as Jinja2", function()
  for _, c in ipairs(CASES) do
    local src, want = c[1], c[2]
    local opts = { jinja = true, trim_blocks = true }
    if src:sub(1, 6) == "LSTRIP" then src = src:sub(7); opts.lstrip_blocks = true end
    it(src, function()
      local out, err = T.render(src, VARS, "case", nil, opts)
      assert.is_nil(err)
      assert.equal(want, out)
    end)
  end
end)

#!/usr/bin/python3
"""include-cycles - which modules of src/ include which, and the circles among them

    scripts/include-cycles.py [DIR ...]     (default: src/cql)

A module is a .c file and the .h of the same name (cql_pool.c and
cql_pool.h), or a header alone. Module A depends on B when A's .c or .h
includes B's header ("x.h" is looked up beside the file, then under src/,
as the compiler's -Isrc does). For every .c under the DIRs, prints the
src/ headers it includes; then every circle (a strongly connected set of
more than one module) with a module under the DIRs. Exit status 1 when
there is such a circle, so a check can fail on one.
"""
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SRC = os.path.join(ROOT, "src")
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def module(path):
    """module - the module a file belongs to: its path under src/ without the suffix"""
    return os.path.splitext(os.path.relpath(path, SRC))[0]


def includes(path):
    """includes - the src/ files that path includes"""
    found = []
    with open(path, encoding="utf-8", errors="replace") as f:
        for name in INCLUDE.findall(f.read()):
            for base in (os.path.dirname(path), SRC):
                cand = os.path.normpath(os.path.join(base, name))
                if cand.startswith(SRC + os.sep) and os.path.exists(cand):
                    found.append(cand)
                    break
    return found


def graph():
    """graph - module -> the modules it depends on, and file -> its includes"""
    deps, files = {}, {}
    for d, _, names in os.walk(SRC):
        for n in sorted(names):
            if not n.endswith((".c", ".h")):
                continue
            p = os.path.join(d, n)
            files[p] = includes(p)
            m = module(p)
            deps.setdefault(m, set()).update(module(i) for i in files[p] if module(i) != m)
    return deps, files


def circles(deps):
    """circles - the strongly connected sets of more than one module (Tarjan)"""
    index, low, stack, on, out = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(deps.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            scc = []
            while True:
                w = stack.pop()
                on.discard(w)
                scc.append(w)
                if w == v:
                    break
            if len(scc) > 1:
                out.append(sorted(scc))

    sys.setrecursionlimit(10000)
    for v in sorted(deps):
        if v not in index:
            visit(v)
    return out


def main():
    dirs = [os.path.abspath(os.path.join(ROOT, a)) for a in (sys.argv[1:] or ["src/cql"])]
    deps, files = graph()
    mine = lambda p: any(p == d or p.startswith(d + os.sep) for d in dirs)
    for p in sorted(files):
        if p.endswith(".c") and mine(p):
            inc = [os.path.relpath(i, SRC) for i in files[p]]
            print("%s: %s" % (os.path.relpath(p, ROOT), " ".join(inc) or "-"))
    bad = [c for c in circles(deps) if any(mine(os.path.join(SRC, m)) for m in c)]
    for c in bad:
        print("circle: " + " -> ".join(c))
    print("no circle" if not bad else "%d circle(s)" % len(bad))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())

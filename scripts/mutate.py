#!/usr/bin/python3
"""
mutate - a kept mutation score over the code that decides answers

SYNOPSIS
    /usr/bin/python3 scripts/mutate.py [-j N] [--list tests/mutants.txt]
                                       [--only ID[,ID...]] [--keep]

DESCRIPTION
    Reads a list of hand-picked one-line mutants (tests/mutants.txt), applies
    each in a scratch copy of the tree (never in the working tree), rebuilds
    (make all plus the unit binaries the mutant names), runs the tests that
    cover it (unit binaries first, then short e2e selections, stopping at the
    first failure) and reports a table: killed, survived, equivalent.

    A mutant is matched by text, not by line number, so the list survives code
    moving: its "from" text must occur exactly once in its file, or it is
    STALE and the run fails, so that the list is kept up to date. A mutant
    that does not compile is BROKEN and fails the run too (a compiler error is
    not a test killing it). Equivalent mutants are listed with the argument
    why, and not run.

    A unit test named in the list whose source is not in the tree yet (one
    another branch is writing) is left out; a mutant left with no test is
    "uncovered" and scored as not killed.

    The score is killed / (killed + survived + uncovered); the exit status
    is 1 under --min (95%), 2 on a stale or broken mutant or a red baseline.

    List format, one block per mutant, one "key: value" a line, blank lines
    between blocks, '#' comments:

        id:    so-leading-delim
        file:  src/search_order.c
        from:  return i == 0 ? ulen : i;
        to:    return i;
        test:  unit test_search_order
        test:  e2e tests/e2e/test_search_order.py -k leading
        why:   +x@example.com is not split at 0 (split_addr's strcspn() == 0)
        equivalent: (optional) the argument why no test can tell

    When "from" is not unique in its file, "after: TEXT" names a unique
    anchor: the mutant is the first "from" after it, at most 15 lines on.
    Values are stripped of the spaces and tabs around them; a 'to' may be
    empty (the fragment is deleted).
"""
import argparse
import concurrent.futures
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PYTHON = "/usr/bin/python3"
UNIT_TIMEOUT_S = 60		# a mutant that loops forever is killed by this (so-addr-parent-delim)
E2E_TIMEOUT_S = 600
BUILD_TIMEOUT_S = 600
KEYS = ("id", "file", "after", "from", "to", "test", "why", "equivalent")
AFTER_LINES = 15		# how far past its "after" anchor a "from" may be


class Mutant:
    """one entry of the list"""

    def __init__(self, lineno):
        self.lineno = lineno
        self.id = self.file = self.orig = self.repl = self.why = None
        self.equivalent = None
        self.after = None	# a unique anchor: "from" is its next occurrence
        self.offset = -1	# where "from" is in the file
        self.tests = []		# ("unit", "test_x") or ("e2e", "path -k expr")
        self.status = None	# killed, survived, equivalent, STALE, BROKEN
        self.detail = ""
        self.seconds = 0.0


def parse_list(path):
    """parse_list - the mutants of path, in order; raises ValueError"""
    mutants, cur = [], None
    with open(path, encoding="utf-8") as f:
        for n, raw in enumerate(f, 1):
            line = raw.rstrip("\n")
            if line.strip() == "":
                cur = None
                continue
            if line.lstrip().startswith("#"):
                continue
            key, sep, val = line.partition(":")
            key = key.strip()
            if not sep or key not in KEYS:
                raise ValueError("%s:%d: expected one of %s" % (path, n, ", ".join(KEYS)))
            val = val.strip(" \t")
            if cur is None:
                cur = Mutant(n)
                mutants.append(cur)
            if key == "id":
                cur.id = val
            elif key == "file":
                cur.file = val
            elif key == "after":
                cur.after = val
            elif key == "from":
                cur.orig = val
            elif key == "to":
                cur.repl = val
            elif key == "why":
                cur.why = val
            elif key == "equivalent":
                cur.equivalent = val
            elif key == "test":
                kind, _, rest = val.partition(" ")
                if kind not in ("unit", "e2e") or not rest.strip():
                    raise ValueError("%s:%d: test is 'unit test_x' or 'e2e path [-k expr]'" % (path, n))
                cur.tests.append((kind, rest.strip()))
    ids = set()
    for m in mutants:
        where = "%s:%d" % (path, m.lineno)
        for need in ("id", "file", "from", "to", "why"):
            if getattr(m, {"from": "orig", "to": "repl"}.get(need, need)) is None:
                raise ValueError("%s: mutant without %s" % (where, need))
        if m.id in ids:
            raise ValueError("%s: duplicate id %s" % (where, m.id))
        ids.add(m.id)
        if m.orig == m.repl:
            raise ValueError("%s: %s: from and to are the same" % (where, m.id))
        if not m.tests and not m.equivalent:
            raise ValueError("%s: %s: no test and not equivalent" % (where, m.id))
        # unit binaries first: they are cheap and say the most
        m.tests.sort(key=lambda t: t[0] != "unit")
    return mutants


def check_stale(mutants):
    """check_stale - mark mutants whose text is not in the tree exactly once"""
    for m in mutants:
        path = os.path.join(ROOT, m.file)
        try:
            with open(path, encoding="utf-8") as f:
                text = f.read()
        except OSError as e:
            m.status, m.detail = "STALE", str(e)
            continue
        start = 0
        if m.after is not None:
            n = text.count(m.after)
            if n != 1:
                m.status = "STALE"
                m.detail = "'after' found %d times in %s" % (n, m.file)
                continue
            start = text.index(m.after)
            m.offset = text.find(m.orig, start)
            if m.offset < 0 or text.count("\n", start, m.offset) > AFTER_LINES:
                m.status = "STALE"
                m.detail = "'from' not within %d lines after 'after' in %s" % (AFTER_LINES, m.file)
            continue
        n = text.count(m.orig)
        if n != 1:
            m.status = "STALE"
            m.detail = "'from' found %d times in %s" % (n, m.file)
        else:
            m.offset = text.index(m.orig)


def tracked_files():
    """tracked_files - what git knows plus untracked, non-ignored files"""
    out = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"],
                         cwd=ROOT, check=True, capture_output=True).stdout
    return [p for p in out.decode().split("\0") if p]


def make_scratch(files):
    """make_scratch - a copy of the working tree in a new temp dir"""
    d = tempfile.mkdtemp(prefix="pac-mutate-")
    for p in files:
        src = os.path.join(ROOT, p)
        if not os.path.isfile(src):
            continue
        dst = os.path.join(d, p)
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        shutil.copy2(src, dst)
    # The objects of the working tree's build, mtimes kept: make redoes only
    # what differs, instead of a full build per scratch tree.
    if os.path.isdir(os.path.join(ROOT, "build/obj")):
        shutil.copytree(os.path.join(ROOT, "build/obj"), os.path.join(d, "build/obj"))
    return d


def run(cmd, cwd, timeout, env=None):
    """run - (ok, tail of the output); a timeout counts as a failure"""
    try:
        p = subprocess.run(cmd, cwd=cwd, timeout=timeout, env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    except subprocess.TimeoutExpired:
        return False, "timeout after %ds" % timeout
    tail = p.stdout.decode(errors="replace").strip().splitlines()[-3:]
    return p.returncode == 0, " | ".join(tail)


def build(scratch, units):
    """build - make all and the unit binaries listed"""
    targets = ["all"] + ["build/tests/" + u for u in units]
    return run(["make", "-s", "-j1"] + targets, scratch, BUILD_TIMEOUT_S)


def run_tests(scratch, tests):
    """run_tests - (all passed, which test failed and how)"""
    env = dict(os.environ, PAC_BUILD=os.path.join(scratch, "build"))
    for kind, spec in tests:
        if kind == "unit":
            ok, out = run([os.path.join(scratch, "build/tests", spec)], scratch,
                          UNIT_TIMEOUT_S, env)
        else:
            args = spec.split()
            ok, out = run([PYTHON, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider"] + args,
                          scratch, E2E_TIMEOUT_S, env)
        if not ok:
            return False, "%s %s: %s" % (kind, spec, out[-160:])
    return True, ""


class Worker:
    """one scratch tree; mutants run in it one after another"""

    def __init__(self, files):
        self.dir = make_scratch(files)
        self.lock = threading.Lock()

    def baseline(self, units, tests):
        """baseline - the unmutated tree builds and every listed test passes"""
        ok, out = build(self.dir, units)
        if not ok:
            return False, "baseline build failed: " + out
        return run_tests(self.dir, tests)

    def mutate(self, m):
        """mutate - apply m, build, test, restore; sets m.status"""
        path = os.path.join(self.dir, m.file)
        with open(path, encoding="utf-8") as f:
            orig = f.read()
        start = time.monotonic()
        try:
            with open(path, "w", encoding="utf-8") as f:
                at = orig.find(m.orig, orig.index(m.after) if m.after else 0)
                f.write(orig[:at] + m.repl + orig[at + len(m.orig):])
            units = [spec for kind, spec in m.tests if kind == "unit"]
            ok, out = build(self.dir, units)
            if not ok:
                m.status, m.detail = "BROKEN", "does not build: " + out[-200:]
                return
            passed, why = run_tests(self.dir, m.tests)
            if passed:
                m.status = "survived"
            else:
                m.status, m.detail = "killed", why
        finally:
            # A fresh mtime: the next build recompiles the original.
            with open(path, "w", encoding="utf-8") as f:
                f.write(orig)
            m.seconds = time.monotonic() - start


def main():
    ap = argparse.ArgumentParser(description="apply the listed mutants and score the tests")
    ap.add_argument("--list", default=os.path.join(ROOT, "tests/mutants.txt"))
    ap.add_argument("-j", type=int, default=2, help="scratch trees in parallel (at most 2)")
    ap.add_argument("--only", default="", help="comma-separated ids to run")
    ap.add_argument("--min", type=float, default=95.0, help="lowest passing score, percent")
    ap.add_argument("--keep", action="store_true", help="keep the scratch trees")
    a = ap.parse_args()
    jobs = max(1, min(a.j, 2))

    try:
        mutants = parse_list(a.list)
    except ValueError as e:
        print("mutate: %s" % e, file=sys.stderr)
        return 2
    check_stale(mutants)
    stale = [m for m in mutants if m.status == "STALE"]
    for m in stale:
        print("mutate: STALE %s (%s:%d): %s" % (m.id, os.path.relpath(a.list, ROOT),
                                                 m.lineno, m.detail), file=sys.stderr)
    only = set(filter(None, a.only.split(",")))
    unknown = only - {m.id for m in mutants}
    if unknown:
        print("mutate: no such mutant: %s" % ", ".join(sorted(unknown)), file=sys.stderr)
        return 2
    todo = []
    for m in mutants:
        if m.status:
            continue
        if only and m.id not in only:
            m.status = "skipped"	# not in the table, not scored
            continue
        # A unit test another branch is still writing: named, not yet here.
        missing = [s for k, s in m.tests if k == "unit" and
                   not os.path.exists(os.path.join(ROOT, "tests/unit", s + ".c"))]
        m.tests = [t for t in m.tests if not (t[0] == "unit" and t[1] in missing)]
        if missing:
            m.detail = "no %s yet" % ", ".join(missing)
        if m.equivalent:
            m.status = "equivalent"
        elif not m.tests:
            m.status = "uncovered"	# scored as not killed
        else:
            todo.append(m)
    if stale:
        return 2

    files = tracked_files()
    workers = [Worker(files) for _ in range(min(jobs, max(1, len(todo))))]
    t0 = time.monotonic()
    try:
        units = sorted({s for m in todo for k, s in m.tests if k == "unit"})
        tests = sorted({t for m in todo for t in m.tests}, key=lambda t: t[0] != "unit")
        print("mutate: %d mutants, %d scratch trees; baseline build and tests ..." %
              (len(todo), len(workers)), flush=True)
        with concurrent.futures.ThreadPoolExecutor(len(workers)) as ex:
            base = list(ex.map(lambda w: w.baseline(units, tests), workers))
        for ok, why in base:
            if not ok:
                print("mutate: the unmutated tree is red: %s" % why, file=sys.stderr)
                return 2
        queue = list(todo)
        qlock = threading.Lock()

        def drain(w):
            while True:
                with qlock:
                    if not queue:
                        return
                    m = queue.pop(0)
                w.mutate(m)
                print("  %-9s %-28s %5.1fs %s" % (m.status, m.id, m.seconds,
                                                  m.detail[:90]), flush=True)

        with concurrent.futures.ThreadPoolExecutor(len(workers)) as ex:
            list(ex.map(drain, workers))
    finally:
        for w in workers:
            if a.keep:
                print("mutate: kept %s" % w.dir)
            else:
                shutil.rmtree(w.dir, ignore_errors=True)

    print()
    print("%-28s %-22s %-10s %s" % ("mutant", "file", "result", "why it matters"))
    for m in mutants:
        if m.status in (None, "skipped"):
            continue
        print("%-28s %-22s %-10s %s" % (m.id, os.path.basename(m.file), m.status,
                                        m.equivalent or m.why))
    counts = {s: sum(1 for m in mutants if m.status == s)
              for s in ("killed", "survived", "uncovered", "equivalent", "BROKEN")}
    scored = counts["killed"] + counts["survived"] + counts["uncovered"]
    score = 100.0 * counts["killed"] / scored if scored else 0.0
    print()
    for m in mutants:
        if m.status in ("survived", "uncovered"):
            print("%s %s: %s: '%s' -> '%s' %s" % (m.status.upper(), m.id, m.file, m.orig,
                                                  m.repl, m.detail))
        elif m.status == "BROKEN":
            print("BROKEN %s: %s" % (m.id, m.detail))
    print("mutate: %d killed, %d survived, %d uncovered, %d equivalent, %d broken; "
          "score %.1f%% (killed / non-equivalent), %.0f s" %
          (counts["killed"], counts["survived"], counts["uncovered"], counts["equivalent"],
           counts["BROKEN"], score, time.monotonic() - t0))
    if counts["BROKEN"]:
        return 2
    return 0 if score >= a.min else 1


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Every report against docs/report.schema.json: those the suite's other
tests read (kept as report-kept-*.json in the build directory), and the
server's in every mode this test runs itself (the built-in run, the
negative control, --repeat's JSON lines, every lesson, a setup error).

    report_schema.py SCHEMA BUILDDIR SERVER CLIENT

Exit 0 pass, 1 fail, 77 skip (no python3-jsonschema: say so)."""
import glob
import json
import os
import subprocess
import sys

try:
    import jsonschema
except ImportError:
    print("SKIP: python3-jsonschema is not installed (apt-get install python3-jsonschema)")
    sys.exit(77)

schema_path, build, server, client = sys.argv[1:5]
with open(schema_path, encoding="utf-8") as f:
    schema = json.load(f)
jsonschema.Draft202012Validator.check_schema(schema)
validator = jsonschema.Draft202012Validator(schema)
failures = checked = 0


def check(name, doc):
    global failures, checked
    checked += 1
    errs = sorted(validator.iter_errors(doc), key=lambda e: list(e.path))
    for e in errs[:5]:
        print("FAIL: %s: at %s: %s" % (name, "/".join(map(str, e.path)), e.message[:200]))
    failures += bool(errs)


def run(name, argv, lines=False):
    r = subprocess.run([server] + argv + ["--client", client], capture_output=True, text=True,
                       timeout=300)
    docs = [json.loads(l) for l in r.stdout.splitlines() if l.strip()] if lines else \
        [json.loads(r.stdout)]
    for i, d in enumerate(docs):
        check("%s%s" % (name, " #%d" % (i + 1) if lines else ""), d)


run("--spawn 3", ["--spawn", "3", "--json"])
run("--cow-as-shared", ["--spawn", "2", "--cow-as-shared", "--json"])
run("--repeat 2", ["--spawn", "2", "--repeat", "2", "--json"], lines=True)
run("--scenario builtin", ["--scenario", "builtin", "--spawn", "3", "--json"])
run("a setup error (no 1 GiB pages)", ["--spawn", "1", "--json", "--page-size", "1G"])
lessons = subprocess.run([server, "--scenario", "list"], capture_output=True,
                         text=True).stdout.split("\n\n")[0]
for line in lessons.splitlines():
    name = line.split(" ")[0]
    if name and name != "builtin":
        run("lesson " + name, ["--scenario", name, "--json"])
kept = sorted(glob.glob(os.path.join(build, "report-kept-*.json")))
for path in kept:
    with open(path, encoding="utf-8") as f:
        text = f.read()
    try:
        docs = [json.loads(text)]
    except json.JSONDecodeError:
        docs = [json.loads(l) for l in text.splitlines() if l.strip()]
    for d in docs:
        check(os.path.basename(path), d)
    os.remove(path)  # checked once: the next suite's run keeps its own
print("%d reports checked (%d kept from other tests); %d failed" % (checked, len(kept), failures))
sys.exit(1 if failures else 0)

#!/usr/bin/env python3
"""The scenario JSON Schema (docs/scenario.schema.json) against what it
describes: every shipped lesson and every scenario shown in
docs/scenarios.md must be valid, and files broken in the ways a schema can
see must not be.

    schema.py SCHEMA DOC.md LESSON.json...

Exit 0 pass, 1 fail, 77 skip (no python3-jsonschema: say so)."""
import copy
import json
import re
import sys

try:
    import jsonschema
except ImportError:
    print("SKIP: python3-jsonschema is not installed (apt-get install python3-jsonschema)")
    sys.exit(77)

schema_path, doc_path, lessons = sys.argv[1], sys.argv[2], sys.argv[3:]
with open(schema_path, encoding="utf-8") as f:
    schema = json.load(f)
validator_class = jsonschema.validators.validator_for(schema)
validator_class.check_schema(schema)
validator = validator_class(schema)
failures = 0


def fail(what):
    global failures
    failures += 1
    print("FAIL:", what)


def errors(doc):
    return sorted(e.message for e in validator.iter_errors(doc))


good = []
for path in lessons:
    with open(path, encoding="utf-8") as f:
        good.append((path, json.load(f)))
with open(doc_path, encoding="utf-8") as f:
    text = f.read()
shown = 0
for n, block in enumerate(re.findall(r"```json\n(.*?)```", text, re.S)):
    doc = json.loads(block)
    if isinstance(doc, dict) and "scenario" in doc:
        good.append(("%s, example %d" % (doc_path, n + 1), doc))
        shown += 1
if shown == 0:
    fail("%s shows no scenario" % doc_path)
if len(lessons) < 10:
    fail("only %d lessons" % len(lessons))

for name, doc in good:
    errs = errors(doc)
    if errs:
        fail("%s: %s" % (name, "; ".join(errs)))


def broken(doc, how):
    d = copy.deepcopy(doc)
    how(d)
    return d


# Ways to be wrong that the schema must see, each applied to a lesson.
base = good[0][1]
first = lambda d: d["steps"][0]["do"][0]
bad = {
    "an unknown member": lambda d: d.update(valeu=1),
    "a name with capitals": lambda d: d.update(scenario="Read"),
    "no clients": lambda d: d.pop("clients"),
    "65 clients": lambda d: d.update(clients=65),
    "no steps": lambda d: d.update(steps=[]),
    "a step without say": lambda d: d["steps"][0].pop("say"),
    "an escape in say": lambda d: d["steps"][0].update(say="\u001b[2J"),
    "a newline in about": lambda d: d.update(about="a\nb"),
    "an unknown op": lambda d: first(d).update(op="peek"),
    "an unknown view": lambda d: first(d).update(view="shared"),
    "who 0": lambda d: first(d).update(who=0),
    "a map with pages": lambda d: first(d).update(op="map", pages="1"),
    "a read without pages": lambda d: (first(d).update(op="read"), first(d).pop("pages", None)),
    "a write without value": lambda d: (first(d).update(op="write", pages="1"),
                                        first(d).pop("value", None)),
    "a bad page list": lambda d: first(d).update(op="read", pages="1-"),
    "a bad word": lambda d: first(d).update(op="write", pages="1", value="0xZZ"),
    "an odd offset": lambda d: first(d).update(op="read", pages="1", offset=2),
    "a protect without protection": lambda d: first(d).update(op="protect", pages="1"),
    "an unknown protection": lambda d: first(d).update(op="protect", pages="1", protect="rwx"),
    "a bad check name": lambda d: first(d).update(check="Bad Name"),
    "a read predicting stamp of 65": lambda d: first(d).update(
        op="read", pages="1", expect={"1": "stamp of 65"}),
    "a write predicting a count": lambda d: first(d).update(
        op="write", pages="1", value="1", expect={"private": 1}),
    "a fork without child": lambda d: (first(d).update(op="fork", who=1),
                                      first(d).pop("view", None)),
    "a fork with a view": lambda d: first(d).update(op="fork", who=1, child=2),
    "a fork by the server": lambda d: (first(d).update(op="fork", who="server", child=2),
                                      first(d).pop("view", None)),
    "a map with a child": lambda d: first(d).update(op="map", child=2),
}
for what, how in bad.items():
    if not errors(broken(base, how)):
        fail("the schema takes %s" % what)

print("%d scenarios valid (%d lessons, %d from the docs), %d broken ones refused; %d failures"
      % (len(good), len(lessons), shown, len(bad), failures))
sys.exit(1 if failures else 0)

#!/usr/bin/env python3
"""Every option a program's --help names is in its manual page, and every
option the page describes is one --help names (docs/man/*.scd).

    man_options.py PROGRAM PAGE.scd [PROGRAM PAGE.scd ...]

Exit 0 pass, 1 fail."""
import re
import subprocess
import sys

failures = 0
args = sys.argv[1:]
for prog, page in zip(args[0::2], args[1::2]):
    help_text = subprocess.run([prog, "--help"], capture_output=True, text=True,
                               check=False).stdout
    # options given at the start of a --help line, and in the usage lines
    said = set(re.findall(r"^  (--[a-z][a-z-]*)", help_text, re.M))
    said |= set(re.findall(r"(--[a-z][a-z-]*)", help_text.split("\n\n", 1)[0]))
    said |= set(re.findall(r"^  --help, (--version)", help_text, re.M))
    with open(page, encoding="utf-8") as f:
        text = f.read()
    options = text.split("# OPTIONS", 1)[1].split("\n# ", 1)[0]
    # each option's own paragraph starts at the line's start: *--name*
    described = set(re.findall(r"^\*(--[a-z][a-z-]*)\*", options, re.M))
    for o in sorted(said - described):
        print("FAIL: %s --help names %s; %s does not describe it" % (prog, o, page))
        failures += 1
    for o in sorted(described - said):
        print("FAIL: %s describes %s; %s --help does not name it" % (page, o, prog))
        failures += 1
    if len(described) < 5:
        print("FAIL: %s describes only %d options" % (page, len(described)))
        failures += 1
    print("%s: %d options in --help, %d in %s" % (prog, len(said), len(described), page))
sys.exit(1 if failures else 0)

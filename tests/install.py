#!/usr/bin/env python3
"""An install as a user makes it: `meson install` of this build into a
scratch directory (DESTDIR), each install tag carrying what it should, and
the installed programs working from another directory: the server finds
its client beside it and the lessons by name; the manual pages read.

    install.py MESON BUILDDIR

Exit 0 pass, 1 fail, 77 skip (no meson to install with)."""
import os
import shutil
import subprocess
import sys
import tempfile

meson, build = sys.argv[1], sys.argv[2]
failures = 0


def fail(what):
    global failures
    failures += 1
    print("FAIL:", what)


def install(dest, tags=None):
    cmd = [meson, "install", "-C", build, "--destdir", dest, "--no-rebuild", "--quiet"]
    if tags:
        cmd += ["--tags", tags]
    r = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if r.returncode != 0:
        fail("%s: exit %d: %s" % (" ".join(cmd), r.returncode, r.stderr[-400:]))
    found = set()
    for root, _, files in os.walk(dest):
        for f in files:
            found.add(os.path.relpath(os.path.join(root, f), dest))
    return found


def prefix_of(found):
    for f in found:
        if f.endswith("bin/cowlab-server"):
            return f[: -len("bin/cowlab-server")]
    return None


with tempfile.TemporaryDirectory() as tmp:
    everything = install(os.path.join(tmp, "all"))
    prefix = prefix_of(everything)
    if prefix is None:
        fail("no bin/cowlab-server installed: %s" % sorted(everything)[:10])
        sys.exit(1)
    root = os.path.join(tmp, "all", prefix)
    want = ["bin/cowlab-server", "bin/cowlab-client", "share/cowlab/scenarios/fork-after-copy.json",
            "share/cowlab/schemas/report.schema.json",
            "share/cowlab/schemas/scenario.schema.json", "share/doc/cowlab/README.md",
            "share/doc/cowlab/scenarios.md", "share/zsh/site-functions/_cowlab",
            "share/fish/vendor_completions.d/cowlab-server.fish",
            "share/fish/vendor_completions.d/cowlab-client.fish"]
    if shutil.which("scdoc"):
        want += ["share/man/man1/cowlab-server.1", "share/man/man1/cowlab-client.1",
                 "share/man/man5/cowlab-scenario.5"]
    for w in want:
        if prefix + w not in everything:
            fail("not installed: %s" % w)
    bash = [f for f in everything if f.endswith("completions/cowlab-server") or
            f.endswith("completions/cowlab-client")]
    if len(bash) != 2:
        fail("the bash completions: %s" % bash)
    lessons = [f for f in everything if "/share/cowlab/scenarios/" in "/" + f]
    if len(lessons) < 10:
        fail("only %d lessons installed" % len(lessons))

    # each tag carries its own, and nothing of the others
    runtime = install(os.path.join(tmp, "runtime"), "runtime")
    if prefix + "bin/cowlab-server" not in runtime or any("/man/" in f or "/doc/" in f
                                                         for f in runtime):
        fail("--tags runtime: %s" % sorted(runtime))
    doc = install(os.path.join(tmp, "doc"), "doc")
    if not doc or any("bin/" in f for f in doc) or prefix + "share/doc/cowlab/README.md" not in doc:
        fail("--tags doc: %s" % sorted(doc))

    # the installed programs, from another directory
    server = os.path.join(root, "bin", "cowlab-server")
    env = dict(os.environ)
    for argv in ([server, "--spawn", "2"], [server, "--scenario", "read-does-not-copy"],
                 [server, "--scenario", "list"]):
        r = subprocess.run(argv, cwd="/", capture_output=True, text=True, check=False, env=env,
                           timeout=120)
        if r.returncode != 0:
            fail("%s: exit %d\n%s%s" % (" ".join(argv[1:]), r.returncode, r.stdout[-800:],
                                        r.stderr[-400:]))
    r = subprocess.run([server, "--scenario", "list"], cwd="/", capture_output=True, text=True,
                       check=False)
    if "fork-after-copy" not in r.stdout:
        fail("--scenario list does not name the installed lessons:\n" + r.stdout[:400])
    page = os.path.join(root, "share/man/man1/cowlab-server.1")
    if shutil.which("man") and os.path.exists(page):
        r = subprocess.run(["man", "-l", page], capture_output=True, text=True, check=False,
                           env=dict(env, MANWIDTH="80", MAN_KEEP_FORMATTING=""))
        if r.returncode != 0 or "--page-size" not in r.stdout or "EXAMPLES" not in r.stdout:
            fail("man -l cowlab-server.1: exit %d: %s" % (r.returncode, r.stdout[:300]))

print("installed %d files under %s; %d failures" % (len(everything), prefix, failures))
sys.exit(1 if failures else 0)

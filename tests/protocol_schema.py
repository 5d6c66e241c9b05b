#!/usr/bin/env python3
"""Every message of traced runs against docs/protocol.schema.json: the
server writes each message in and out (COWLAB_TRACE=FILE, a JSON line
each) in the built-in run, every lesson (map, write, expect, fault_write,
protect, discard, evidence, fork and their results), and a run by hand
whose second client is turned away (done, error). Every message type must
be seen, and every message must be JSON the schema takes.

    protocol_schema.py SCHEMA SERVER CLIENT

Exit 0 pass, 1 fail, 77 skip (no python3-jsonschema: say so)."""
import json
import os
import socket
import subprocess
import sys
import tempfile
import time

try:
    import jsonschema
except ImportError:
    print("SKIP: python3-jsonschema is not installed (apt-get install python3-jsonschema)")
    sys.exit(77)

schema_path, server, client = sys.argv[1:4]
with open(schema_path, encoding="utf-8") as f:
    schema = json.load(f)
jsonschema.Draft202012Validator.check_schema(schema)
validator = jsonschema.Draft202012Validator(schema)
failures = 0


def fail(what):
    global failures
    failures += 1
    print("FAIL:", what)


with tempfile.TemporaryDirectory() as tmp:
    trace = os.path.join(tmp, "trace.jsonl")
    env = dict(os.environ, COWLAB_TRACE=trace)
    runs = [["--spawn", "3", "--json"], ["--spawn", "2", "--cow-as-shared", "--json"]]
    lessons = subprocess.run([server, "--scenario", "list"], capture_output=True,
                             text=True).stdout.split("\n\n")[0]
    for line in lessons.splitlines():
        name = line.split(" ")[0]
        if name and name != "builtin":
            runs.append(["--scenario", name, "--json"])
    for argv in runs:
        subprocess.run([server] + argv + ["--client", client], env=env, capture_output=True,
                       timeout=300)
    # by hand: a peer that is no client is turned away (error), then the
    # one client the run waits for (done)
    name = "schema-%d" % os.getpid()
    srv = subprocess.Popen([server, "--clients", "1", "--name", name, "--timeout", "20",
                            "--json"], env=env, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
    xdg = os.environ.get("XDG_RUNTIME_DIR", "")
    sock = os.path.join(xdg, "cowlab") if xdg.startswith("/") and \
        os.path.isdir(os.path.join(xdg, "cowlab")) else "/tmp/cowlab-%d" % os.geteuid()
    sock = os.path.join(sock, name + ".sock")
    for _ in range(100):
        if os.path.exists(sock):
            break
        time.sleep(0.1)
    try:
        peer = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        peer.connect(sock)
        peer.send(b"hello?")
        peer.settimeout(10)
        peer.recv(65536)
        peer.close()
    except OSError as e:
        fail("the peer that is no client: %s" % e)
    subprocess.run([client, "--name", name, "--timeout", "20", "--quiet"], timeout=60)
    srv.wait(timeout=60)

    seen = {}
    with open(trace, encoding="utf-8") as f:
        lines = f.readlines()
    for n, line in enumerate(lines, 1):
        d = json.loads(line)
        if "message" not in d:
            # the one peer here that is no cowlab program sent it
            if d["dir"] != "in" or d.get("text") != "hello?":
                fail("line %d: not JSON: %s" % (n, d.get("text", "")[:120]))
            continue
        m = d["message"]
        key = m.get("type")
        seen[key] = seen.get(key, 0) + 1
        for e in list(validator.iter_errors(m))[:3]:
            fail("line %d (%s %s): at %s: %s" % (n, d["dir"], key, "/".join(map(str, e.path)),
                                                  e.message[:200]))
    for t in ("hello", "assign", "run", "result", "done", "error"):
        if t not in seen:
            fail("no %s message was traced" % t)
    ops = set()
    for line in lines:
        m = json.loads(line).get("message", {})
        for o in m.get("ops", []):
            ops.add(o.get("op"))
    for o in ("map", "write", "expect", "fault_write", "evidence", "protect", "discard", "fork",
              "unmap"):
        if o not in ops:
            fail("no %s operation was traced" % o)
    print("%d messages checked (%s); %d failures" % (len(lines), ", ".join(
        "%s %d" % kv for kv in sorted(seen.items())), failures))
sys.exit(1 if failures else 0)

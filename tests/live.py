#!/usr/bin/env python3
"""The live page map (issue 16): cowlab-server --spawn N on a terminal
(a pseudo-terminal here) draws the page map under its progress line and
redraws it in place, in colour unless NO_COLOR, --color=never or TERM=dumb
says otherwise; the letters stay either way. And --step goes on at Enter.

    live.py SERVER CLIENT
"""
import os
import pty
import re
import sys

SGR = re.compile(rb"\x1b\[[0-9;]*m")
UP = re.compile(rb"\x1b\[[0-9]+A")
ESC = re.compile(rb"\x1b")
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("CHECK failed:", what, file=sys.stderr)


def on_terminal(argv, env, answer=None):
    """Runs argv on a pseudo-terminal: its exit status and all it wrote
    there; answer(out, fd), when given, is called as output comes."""
    pid, fd = pty.fork()
    if pid == 0:
        os.execve(argv[0], argv, env)
    out = b""
    while True:
        try:
            data = os.read(fd, 65536)
        except OSError:
            break
        if not data:
            break
        out += data
        if answer is not None:
            answer(out, fd)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), out


def run(server, client, term, no_color, *args):
    """The server's stdout and stderr together, as the terminal got them."""
    env = dict(os.environ, TERM=term)
    env.pop("NO_COLOR", None)
    if no_color is not None:
        env["NO_COLOR"] = no_color
    return on_terminal([server, "--spawn", "100", "--client", client] + list(args), env)


def main():
    server, client = sys.argv[1], sys.argv[2]
    row = re.compile(rb"\n +0 (\x1b\[[0-9;]*m)?S")

    code, out = run(server, client, "xterm", None)
    check(code == 0, "xterm: exit %d" % code)
    check(UP.search(out) is not None, "xterm: the map is never redrawn in place")
    check(b"\x1b[32mC" in out, "xterm: no copy in green")
    check(b"verdict: isolation HELD" in out, "xterm: no verdict")
    check(row.search(out) is not None, "xterm: no map row")

    code, out = run(server, client, "xterm", "1")
    check(code == 0, "NO_COLOR: exit %d" % code)
    check(SGR.search(out) is None, "NO_COLOR: colour anyway")
    check(UP.search(out) is not None, "NO_COLOR: not redrawn (it needs no colour)")
    check(re.search(rb"\n +0 SCtWFCtWF", out) is not None, "NO_COLOR: the letters are gone")

    code, out = run(server, client, "xterm", "1", "--color=always")
    check(code == 0 and b"\x1b[32mC" in out, "--color=always under NO_COLOR: no colour")

    code, out = run(server, client, "xterm", None, "--color=never")
    check(code == 0 and SGR.search(out) is None, "--color=never: colour anyway")

    code, out = run(server, client, "dumb", None)
    check(code == 0, "TERM=dumb: exit %d" % code)
    check(ESC.search(out) is None, "TERM=dumb: escape sequences sent")
    check(b"verdict: isolation HELD" in out, "TERM=dumb: no verdict")

    # --step goes on at Enter on a terminal: a line typed at each pause
    entered = [0]

    def enter(out, fd):
        while out.count(b"paused before step") > entered[0]:
            entered[0] += 1
            os.write(fd, b"\n")

    code, out = on_terminal([server, "--spawn", "2", "--step", "--client", client],
                            dict(os.environ, TERM="xterm"), enter)
    check(code == 0, "--step at Enter: exit %d" % code)
    check(entered[0] == 4, "--step at Enter: %d pauses, not 4" % entered[0])
    check(b"going on at Enter" in out, "--step at Enter: not said")

    if failures:
        print("live: %d check(s) failed" % len(failures), file=sys.stderr)
        return 1
    print("live: all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())

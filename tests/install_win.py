#!/usr/bin/env python3
"""The Windows folder: `meson install` of the cross build into a scratch
directory gives a folder to copy to a Windows machine and run as is: the
two .exe files, which import system DLLs alone (cJSON is linked in; no
libgcc, libwinpthread or cJSON DLL to carry), and the lessons beside them;
run under Wine from another directory, the server starts the client beside
it and finds a lesson by name.

    install_win.py MESON BUILDDIR OBJDUMP WINE

Exit 0 pass, 1 fail, 77 skip (no objdump or wine to look with)."""
import os
import re
import shutil
import subprocess
import sys
import tempfile

meson, build, objdump, wine = sys.argv[1:5]
if not shutil.which(objdump) or not os.path.exists(wine):
    print("SKIP: %s or %s is missing" % (objdump, wine))
    sys.exit(77)
failures = 0
# what any Windows has: kernel, security, crypto, shell, the C runtime
SYSTEM = {"kernel32.dll", "advapi32.dll", "bcrypt.dll", "shell32.dll", "msvcrt.dll",
          "ucrtbase.dll", "user32.dll", "ws2_32.dll", "psapi.dll", "ntdll.dll"}


def fail(what):
    global failures
    failures += 1
    print("FAIL:", what)


with tempfile.TemporaryDirectory() as tmp:
    r = subprocess.run([meson, "install", "-C", build, "--destdir", tmp, "--no-rebuild",
                        "--quiet", "--tags", "runtime"], capture_output=True, text=True)
    if r.returncode != 0:
        fail("meson install: %s" % r.stderr[-400:])
    exes = {}
    for root, _, files in os.walk(tmp):
        for f in files:
            if f.endswith(".exe"):
                exes[f] = os.path.join(root, f)
    if set(exes) != {"cowlab-server.exe", "cowlab-client.exe"}:
        fail("the folder's programs: %s" % sorted(exes))
    for name, path in sorted(exes.items()):
        out = subprocess.run([objdump, "-p", path], capture_output=True, text=True).stdout
        dlls = {d.lower() for d in re.findall(r"DLL Name: (\S+)", out)}
        if not dlls or not dlls <= SYSTEM:
            fail("%s imports %s, not only system DLLs" % (name, sorted(dlls - SYSTEM)))
        print("%s imports %s" % (name, ", ".join(sorted(dlls))))
    server = exes.get("cowlab-server.exe")
    lessons = os.path.join(os.path.dirname(os.path.dirname(server or tmp)), "share", "cowlab",
                           "scenarios")
    if not os.path.isdir(lessons) or len(os.listdir(lessons)) < 10:
        fail("no lessons beside the programs at %s" % lessons)
    env = dict(os.environ, WINEDEBUG="-all", WINEDLLOVERRIDES="mscoree,mshtml=")
    for argv in (["--spawn", "2"], ["--scenario", "read-does-not-copy"]):
        if server is None:
            break
        r = subprocess.run([wine, server] + argv, cwd=tmp, capture_output=True, text=True,
                           env=env, timeout=240)
        if r.returncode != 0:
            fail("%s: exit %d\n%s%s" % (" ".join(argv), r.returncode, r.stdout[-600:],
                                        r.stderr[-300:]))
print("%d failures" % failures)
sys.exit(1 if failures else 0)

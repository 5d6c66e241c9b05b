#!/usr/bin/env python3
"""The HTML report (cowlab-server --html FILE, issue 16) in a browser:
well formed (every element closed, one verdict); rendered by headless
Chromium (Debian's package) without a console message, into a screenshot
that is not blank; a click on a page of the map and on a page of a step
says what the issue asks (the page, what the OS said, the prediction,
the checks). Without Chromium it says so and exits 77 (skipped), never 0.

    html_page.py SERVER CLIENT
"""
import html.parser
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import zlib

VOID = {"meta", "br", "img", "input", "hr", "link"}
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("CHECK failed:", what, file=sys.stderr)


class Balance(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.stack, self.errors, self.ids = [], [], {}

    def handle_starttag(self, tag, attrs):
        for k, v in attrs:
            if k == "id":
                self.ids[v] = self.ids.get(v, 0) + 1
        if tag not in VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            self.errors.append("</%s> closes <%s>" % (tag, self.stack[-1] if self.stack else ""))
            return
        self.stack.pop()


def png_not_blank(path):
    """Whether a PNG's pixels are not all one colour (stdlib only)."""
    data = open(path, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        return False
    at, idat = 8, b""
    while at < len(data):
        n, kind = struct.unpack(">I4s", data[at:at + 8])
        if kind == b"IDAT":
            idat += data[at + 8:at + 8 + n]
        at += 12 + n
    pixels = zlib.decompress(idat)
    return len(set(pixels)) > 16


def chromium(args, page):
    run = subprocess.run([CHROMIUM, "--headless=new", "--no-sandbox", "--disable-gpu",
                          "--enable-logging=stderr", "--v=0"] + args + ["file://" + page],
                         capture_output=True, timeout=120)
    console = [l for l in run.stderr.decode(errors="replace").splitlines() if ":CONSOLE" in l]
    return run.returncode, run.stdout.decode(errors="replace"), console


CLICK = """<script>
(function(){
  var out = [];
  cowlabCells(document.getElementById('map'));
  var mr = document.querySelector('#map .row');
  if (mr.querySelectorAll('i').length !== mr.dataset.seen.length) out.push('CELLS WRONG');
  mr.querySelector('i').click();
  out.push(document.getElementById('detail').textContent);
  var a = document.querySelector('article.step');
  cowlabCells(a);  /* as when the panel comes into view */
  var row = a.querySelector('.row[data-pages]');
  if (row.querySelectorAll('i').length !== row.dataset.seen.length) out.push('CELLS WRONG');
  row.querySelector('i').click();
  out.push(document.getElementById('detail').textContent);
  var p = document.createElement('pre'); p.id = 'clicked';
  p.textContent = out.join('\\n----\\n'); document.body.appendChild(p);
})();
</script>
"""


def main():
    server, client = sys.argv[1], sys.argv[2]
    tmp = tempfile.mkdtemp(prefix="cowlab-html-")
    page = os.path.join(tmp, "run.html")
    try:
        run = subprocess.run([server, "--spawn", "3", "--html", page, "--client", client],
                             capture_output=True, timeout=120)
        check(run.returncode == 0, "the run exited %d" % run.returncode)
        text = open(page, encoding="utf-8").read()
        parser = Balance()
        parser.feed(text)
        parser.close()
        check(not parser.errors, "not well formed: %s" % parser.errors[:3])
        check(parser.stack == [], "left open: %s" % parser.stack)
        check(parser.ids.get("verdict") == 1 and parser.ids.get("map") == 1,
              "ids: %s" % parser.ids)
        if CHROMIUM is None:
            print("html: SKIP: no chromium here (Debian: apt-get install chromium); the page "
                  "was checked as text only")
            return 77 if not failures else 1
        shot = os.path.join(tmp, "shot.png")
        code, _, console = chromium(["--screenshot=" + shot, "--window-size=1200,900"], page)
        check(code == 0 and os.path.exists(shot), "no screenshot (exit %d)" % code)
        check(not console, "console messages: %s" % console[:3])
        check(os.path.exists(shot) and png_not_blank(shot), "the screenshot is blank")
        clicked = os.path.join(tmp, "clicked.html")
        open(clicked, "w", encoding="utf-8").write(text.replace("</body>", CLICK + "</body>"))
        code, dom, console = chromium(["--dump-dom"], clicked)
        check(not console, "console messages on a click: %s" % console[:3])
        start = dom.find('<pre id="clicked">')
        said = html.unescape(dom[start:dom.find("</pre>", start)]) if start >= 0 else ""
        check("page 0: S = the server's own page" in said, "a click on the map: %r" % said[:200])
        check("CELLS WRONG" not in said, "a panel's cells are not a cell a page")
        check("section_intact held" in said, "the map's click names no check: %r" % said[:300])
        check("the OS says: " in said and "the model predicts: " in said and
              "its sources: pagemap" in said and "as the model predicts" in said,
              "a click on a step's page: %r" % said[-400:])
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if failures:
        print("html: %d check(s) failed" % len(failures), file=sys.stderr)
        return 1
    print("html: all checks passed (rendered by %s)" % CHROMIUM)
    return 0


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

if __name__ == "__main__":
    sys.exit(main())

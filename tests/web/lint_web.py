#!/usr/bin/env python3
"""Security lint of the web portal (web/): no markup parsing, no inline code, no javascript: URLs.

Usage:
  lint_web.py <web dir>     scan every file under the directory; exit 0 clean, 1 problems
                            (one "file:line: rule: what" line each), 2 usage error
  lint_web.py --self-test   feed the lint one bad file per rule and good files; exit 0 only
                            when every bad file is caught by its rule and the good ones pass

Why: the portal shows text from the network (SIP display names, URIs, metadata XML, audit
detail). It must reach the page only as text (web/dom.js writes every element with
textContent and allow-listed attributes), and the Content-Security-Policy
(default-src 'self'; no inline script or style) must never have to be relaxed. These rules keep
both true for every file under web/; the browser tests check the result in Chromium.
Python 3 standard library only.
"""

import html.parser
import os
import re
import sys
import tempfile

# Rules applied to the text of every file: (rule id, regex, what is wrong).
TEXT_RULES = [
    ("inner-html", re.compile(r"\binnerHTML\b"),
     "innerHTML parses markup; build elements with web/dom.js h()"),
    ("outer-html", re.compile(r"\bouterHTML\b"),
     "outerHTML parses markup; build elements with web/dom.js h()"),
    ("insert-adjacent-html", re.compile(r"\binsertAdjacentHTML\b"),
     "insertAdjacentHTML parses markup; build elements with web/dom.js h()"),
    ("contextual-fragment", re.compile(r"\bcreateContextualFragment\b"),
     "createContextualFragment parses markup"),
    ("document-write", re.compile(r"\bdocument\s*\.\s*write(?:ln)?\b"),
     "document.write/writeln parses markup"),
    ("eval", re.compile(r"\beval\s*\("), "eval runs a string as code"),
    ("new-function", re.compile(r"\bnew\s+Function\b|(?<![\w$.])Function\s*\("),
     "the Function constructor runs a string as code"),
    ("string-timer", re.compile(r"\bset(?:Timeout|Interval)\s*\(\s*['\"`]"),
     "setTimeout/setInterval with a string runs it as code; pass a function"),
    ("setattribute-on", re.compile(r"\.setAttribute\s*\(\s*['\"`]\s*on", re.IGNORECASE),
     "an on* attribute is an inline handler; use addEventListener"),
    ("setattribute-style", re.compile(r"\.setAttribute\s*\(\s*['\"`]\s*style\b", re.IGNORECASE),
     "the style attribute is blocked by the CSP; use classes or el.style.setProperty"),
    ("javascript-url", re.compile(r"javascript\s*:", re.IGNORECASE),
     "javascript: URLs run code"),
]

MARKUP_EXTENSIONS = (".html", ".htm", ".svg")


class Problem:
    def __init__(self, path, line, rule, what):
        self.path, self.line, self.rule, self.what = path, line, rule, what

    def __str__(self):
        return f"{self.path}:{self.line}: {self.rule}: {self.what}"


def line_of(text, offset):
    return text.count("\n", 0, offset) + 1


class MarkupChecker(html.parser.HTMLParser):
    """Checks the elements and attributes of one .html/.svg file."""

    def __init__(self, path, is_svg):
        super().__init__(convert_charrefs=True)
        self.path = path
        self.is_svg = is_svg
        self.problems = []
        self.script = None  # (line, attrs) of the open <script>
        self.script_text = ""

    def add(self, rule, what, line=None):
        self.problems.append(Problem(self.path, line or self.getpos()[0], rule, what))

    def handle_starttag(self, tag, attrs):
        self.check_attrs(attrs)
        if tag == "script":
            self.script = (self.getpos()[0], dict(attrs))
            self.script_text = ""
        elif tag == "style":
            self.add("style-element", "<style> is blocked by the CSP; put CSS in app.css")

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag == "script":
            self.handle_endtag(tag)

    def check_attrs(self, attrs):
        for name, value in attrs:
            name = name.lower()
            if name.startswith("on"):
                self.add("inline-handler", f"{name}= is an inline event handler; use "
                         "addEventListener in a module")
            elif name == "style":
                self.add("style-attribute", "style= is blocked by the CSP; use a class")
            # The raw text rule sees literal "javascript:"; this sees entity-encoded ones.
            if value and re.match(r"\s*javascript\s*:", value, re.IGNORECASE):
                self.add("javascript-url", f"{name}= holds a javascript: URL")

    def handle_data(self, data):
        if self.script is not None:
            self.script_text += data

    def handle_endtag(self, tag):
        if tag != "script" or self.script is None:
            return
        line, attrs = self.script
        self.script = None
        if self.is_svg:
            self.add("inline-script", "<script> inside an SVG", line)
            return
        if self.script_text.strip() or not attrs.get("src"):
            self.add("inline-script", "<script> with a body or without src is inline code "
                     "(blocked by the CSP)", line)
        if (attrs.get("type") or "").strip().lower() != "module" or not attrs.get("src"):
            self.add("script-not-module", 'scripts must be <script type="module" src="…">', line)


def lint_file(path, shown):
    """Returns the problems of one file; `shown` is the name printed."""
    with open(path, "rb") as f:
        text = f.read().decode("utf-8", errors="replace")
    problems = []
    for rule, regex, what in TEXT_RULES:
        for m in regex.finditer(text):
            problems.append(Problem(shown, line_of(text, m.start()), rule, what))
    if shown.lower().endswith(MARKUP_EXTENSIONS):
        checker = MarkupChecker(shown, shown.lower().endswith(".svg"))
        checker.feed(text)
        checker.close()
        if checker.script is not None:  # unterminated <script>
            checker.handle_endtag("script")
        problems.extend(checker.problems)
    # One line per (line, rule): the text and markup checks may both see a javascript: URL.
    seen = set()
    unique = []
    for p in sorted(problems, key=lambda p: (p.line, p.rule)):
        if (p.line, p.rule) not in seen:
            seen.add((p.line, p.rule))
            unique.append(p)
    return unique


def lint_tree(root):
    """Returns (number of files, problems) for every file under root."""
    files = 0
    problems = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(filenames):
            path = os.path.join(dirpath, name)
            if not os.path.isfile(path):
                continue
            files += 1
            problems.extend(lint_file(path, path))
    return files, problems


# ---- self-test: one bad file per rule, plus good files that must pass.

BAD_FILES = [
    ("inner-html", "a.js", "el.innerHTML = name;\n"),
    ("outer-html", "a.js", "x = el.outerHTML;\n"),
    ("insert-adjacent-html", "a.js", "el.insertAdjacentHTML('beforeend', s);\n"),
    ("contextual-fragment", "a.js", "document.createRange().createContextualFragment(s);\n"),
    ("document-write", "a.js", "document.write('<b>hi</b>');\n"),
    ("document-write", "a.js", "document . writeln(s);\n"),
    ("eval", "a.js", "const v = eval(code);\n"),
    ("eval", "a.js", "window.eval (code);\n"),
    ("new-function", "a.js", "const f = new Function('a', 'return a');\n"),
    ("new-function", "a.js", "const f = Function('return 1');\n"),
    ("string-timer", "a.js", "setTimeout('refresh()', 100);\n"),
    ("string-timer", "a.js", "setInterval(\"tick()\", 1000);\n"),
    ("string-timer", "a.js", "window.setTimeout(`go()`, 5);\n"),
    ("setattribute-on", "a.js", "el.setAttribute('onclick', 'go()');\n"),
    ("setattribute-on", "a.js", "el.setAttribute(\"onError\", handler);\n"),
    ("setattribute-style", "a.js", "el.setAttribute('style', 'color: red');\n"),
    ("javascript-url", "a.js", "a.href = 'javascript:alert(1)';\n"),
    ("javascript-url", "a.css", "a { background: url(JavaScript:alert(1)); }\n"),
    ("inline-handler", "a.html", "<!doctype html><body><button onclick=go()>x</button></body>\n"),
    ("inline-handler", "a.svg", "<svg xmlns='http://www.w3.org/2000/svg' onload='x()'></svg>\n"),
    ("style-attribute", "a.html", "<!doctype html><p style=\"color:red\">x</p>\n"),
    ("style-element", "a.html", "<!doctype html><style>p { color: red }</style>\n"),
    ("inline-script", "a.html", "<!doctype html><script type=\"module\">go()</script>\n"),
    ("inline-script", "a.html", "<!doctype html><script type=\"module\"></script>\n"),
    ("inline-script", "a.svg",
     "<svg xmlns='http://www.w3.org/2000/svg'><script>x()</script></svg>\n"),
    ("script-not-module", "a.html", "<!doctype html><script src=\"/a.js\"></script>\n"),
    ("script-not-module", "a.html", "<!doctype html><script type=\"text/javascript\" "
                                    "src=\"/a.js\"></script>\n"),
    ("javascript-url", "a.html", "<!doctype html><a href=\"jav&#x61;script&colon;go()\">x</a>\n"),
]

GOOD_FILES = [
    ("good.html",
     "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
     "<link rel=\"stylesheet\" href=\"{{assets}}/app.css\">\n"
     "<script type=\"module\" src=\"{{assets}}/app.js\"></script></head>\n"
     "<body data-ready=\"0\" class=\"online\"><main id=\"main\"><a href=\"/calls\">Calls</a>"
     "</main></body></html>\n"),
    ("good.js",
     "import {h} from './dom.js';\n"
     "// Text only: textContent, addEventListener, timers with functions.\n"
     "const el = h('p', {class: 'x'}, 'hello');\n"
     "el.textContent = name;\n"
     "el.addEventListener('click', () => evaluate(el));\n"
     "setTimeout(() => refresh(), 100);\n"
     "setInterval(tick, 1000);\n"
     "el.setAttribute('data-on', '1');\n"
     "el.setAttribute('aria-label', 'x');\n"
     "el.style.setProperty('--w', '10px');\n"
     "const onlineUsers = isFunction(x) ? retrieval(y) : 0;\n"),
    ("good.css", "body { color: #111; background: url(\"icon.svg\"); }\n"),
    ("good.svg", "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 1 1\">"
                 "<rect width=\"1\" height=\"1\" fill=\"#fff\"/></svg>\n"),
]


def self_test():
    failures = 0
    with tempfile.TemporaryDirectory(prefix="lint_web_") as tmp:
        for i, (rule, name, content) in enumerate(BAD_FILES):
            path = os.path.join(tmp, f"bad{i:02d}_{rule}_{name}")
            with open(path, "w", encoding="utf-8") as f:
                f.write(content)
            problems = lint_file(path, os.path.basename(path))
            if not any(p.rule == rule for p in problems):
                failures += 1
                print(f"self-test FAIL: {os.path.basename(path)} not caught by {rule} "
                      f"(got: {[p.rule for p in problems]})")
            os.remove(path)
        good_dir = os.path.join(tmp, "good")
        os.makedirs(os.path.join(good_dir, "pages"))
        for name, content in GOOD_FILES:
            with open(os.path.join(good_dir, "pages" if name == "good.js" else "", name), "w",
                      encoding="utf-8") as f:
                f.write(content)
        files, problems = lint_tree(good_dir)
        if problems or files != len(GOOD_FILES):
            failures += 1
            print(f"self-test FAIL: good files ({files}) reported: "
                  + "; ".join(str(p) for p in problems))
        # A tree with one bad file among good ones fails as a whole.
        with open(os.path.join(good_dir, "pages", "bad.js"), "w", encoding="utf-8") as f:
            f.write("\n\nx.innerHTML = y;\n")
        files, problems = lint_tree(good_dir)
        if [(p.line, p.rule) for p in problems] != [(3, "inner-html")]:
            failures += 1
            print(f"self-test FAIL: tree with one bad file: {[str(p) for p in problems]}")
    cases = len(BAD_FILES) + 2
    print(f"lint_web self-test: {cases} cases, {failures} failures")
    return 0 if failures == 0 else 1


def main(argv):
    if len(argv) == 2 and argv[1] == "--self-test":
        return self_test()
    if len(argv) != 2 or not os.path.isdir(argv[1]):
        print("usage: lint_web.py <web dir> | --self-test", file=sys.stderr)
        return 2
    files, problems = lint_tree(argv[1])
    for p in problems:
        print(p)
    if files == 0:
        print(f"lint_web: no files under {argv[1]}")
        return 1
    print(f"lint_web: {files} files, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

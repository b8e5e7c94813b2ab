"""Every code block in README.md and docs/*.md runs, so the documentation cannot drift from the code.

Each block, fenced or indented, is handled by the first rule (a block that runs is one test case named `file:line`)
that fits:

- A `<!-- not-run: reason -->` comment on the line just above it (other comments such as
  `<!-- quickstart-test -->` may stand between the two): not run, and the reason is reported as the
  list printed by test_every_not_run_marker_says_why. An empty reason, or a marker with no block under it, fails.
- ```python: run with the tinynn this test imported, in a subprocess. A file's Python blocks run in
  order in one namespace, as a reader follows a chapter, so case N runs blocks 1..N of its file
  again (and names the earlier block if that one fails); each block gets a fresh temporary working
  directory. Functions named `test_*` that a block defines are called afterwards, as pytest would
  (hypothesis draws 10 examples each), so a block of property tests is checked, not only defined.
  A `print(...)` whose comment ends in a value (`# True`, `# 2x + 1/3 = [2.33 4.33]`: the part after
  the last ": " or "= ") must print that value, numbers to a relative 1e-6.
- ```bash / ```sh / ```shell / ```console whose every command is `tinynn ...`: each command runs
  as `python -m tinynn ...` (leading `NAME=value` words go to its environment) in a fresh
  temporary directory shared by the block's commands, with a timeout; it must exit with status 0.
- Anything else (output samples, C, formulas, commands that install packages, rebuild the kernels
  or need several MPI ranks) fails until it is marked.
"""
import os
import pathlib
import re
import shlex
import subprocess
import sys
import textwrap

import pytest

import tinynn

ROOT = pathlib.Path(__file__).resolve().parents[2]
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
PYTHON_LANGS = {"python", "py"}
SHELL_LANGS = {"bash", "sh", "shell", "console"}
TIMEOUT = 300  # seconds per block; a block that trains must use a tiny epoch count
FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})\s*([\w+-]*)")
COMMENT = re.compile(r"^ {0,3}<!--(.*?)-->\s*$")
NOT_RUN = re.compile(r"^\s*not-run\s*:(.*)$", re.S)
LIST_ITEM = re.compile(r"^ {0,3}([-*+]|\d+[.)])\s")


class Block:
    def __init__(self, path, line, lang, code, reason):
        self.path, self.line, self.lang, self.code, self.reason = path, line, lang, code, reason

    @property
    def name(self):
        return f"{self.path.relative_to(ROOT).as_posix()}:{self.line}"


def _marker(comments):
    """The reason of the `not-run` marker among the comment lines just above a block, else None."""
    for text in comments:
        match = NOT_RUN.match(text)
        if match:
            return match.group(1).strip()
    return None


def parse(path):
    """(blocks, orphan markers) of one Markdown file; line numbers are 1-based, of the block's first line."""
    lines = path.read_text(encoding="utf-8").splitlines()
    blocks, orphans, comments = [], [], []
    in_list, i = False, 0
    while i < len(lines):
        line = lines[i]
        fence = FENCE.match(line)
        comment = COMMENT.match(line)
        if fence:
            ticks, lang = fence.group(1), fence.group(2).lower()
            end = i + 1
            while end < len(lines) and not lines[end].lstrip().startswith(ticks):
                end += 1
            blocks.append(Block(path, i + 1, lang, "\n".join(lines[i + 1:end]) + "\n", _marker(comments)))
            comments, in_list, i = [], False, end + 1
            continue
        indented = line.startswith(("    ", "\t")) and line.strip()
        after_break = i == 0 or not lines[i - 1].strip() or COMMENT.match(lines[i - 1])
        if indented and after_break and not in_list:
            end = i
            while end < len(lines) and (lines[end].startswith(("    ", "\t")) or not lines[end].strip()):
                end += 1
            code = textwrap.dedent("\n".join(lines[i:end])).strip("\n") + "\n"
            blocks.append(Block(path, i + 1, "", code, _marker(comments)))
            comments, i = [], end
            continue
        if comment:
            comments.append(comment.group(1))
        else:
            if _marker(comments) is not None:
                orphans.append(f"{path.relative_to(ROOT).as_posix()}:{i}")
            comments = []
            if LIST_ITEM.match(line):
                in_list = True
            elif line.strip() and not line.startswith(" "):
                in_list = False
        i += 1
    return blocks, orphans


def shell_commands(code):
    """[(env, argv)] of a shell block whose every command is `tinynn ...`; None for any other block."""
    commands = []
    for line in code.replace("\\\n", " ").splitlines():
        try:
            words = shlex.split(line, comments=True)
        except ValueError:
            return None
        if not words:
            continue
        env = {}
        while words and re.fullmatch(r"[A-Za-z_]\w*=\S*", words[0]):
            name, value = words.pop(0).split("=", 1)
            env[name] = value
        if not words or words[0] != "tinynn" or any(w in {"&&", "||", "|", ";", ">", "<"} or "$(" in w
                                                      for w in words):
            return None
        commands.append((env, [sys.executable, "-m", "tinynn", *words[1:]]))
    return commands or None


def _environment(extra=()):
    """This process's environment with the imported tinynn first on the path."""
    env = dict(os.environ, MPLBACKEND="Agg", **dict(extra))
    package_parent = str(pathlib.Path(tinynn.__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (package_parent, env.get("PYTHONPATH")) if p)
    return env


ALL = [parse(path) for path in DOCUMENTS]
BLOCKS = [block for blocks, _ in ALL for block in blocks]

# Runs the blocks given on stdin (a repr of [(name, code)]) in order in one namespace, each in a
# fresh temporary directory, then calls the `test_*` functions each block defined and checks the
# values that `print(...)  # value` lines promise.
RUNNER = r"""
import ast, io, math, os, re, sys, tempfile, tokenize, traceback
try:
    from hypothesis import settings
    settings.register_profile("docs", max_examples=10, deadline=None)
    settings.load_profile("docs")
except ImportError:
    pass

NUMBER = re.compile(r"(-?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)")
VALUE = re.compile(r"(\[|\(|-?\d|True\b|False\b|None\b)")


def promised(code):
    # {line: value} for `print(...)  # ... = value`: the part of the comment after its last
    # ': ' or '= ' (or all of it) that reads as a value; other comments promise nothing.
    promises = {}
    for tok in tokenize.generate_tokens(io.StringIO(code).readline):
        line = tok.line.lstrip()
        if tok.type == tokenize.COMMENT and line.startswith("print("):
            comment = tok.string.lstrip("#").strip()
            tails = [comment] + [comment[m.end():] for m in re.finditer(r"[:=] ", comment)]
            values = [t for t in tails if VALUE.match(t)]
            if values:
                promises[tok.start[0]] = values[-1]
    return promises


def same(printed, value):
    a, b = NUMBER.split(printed), NUMBER.split(value)
    if len(a) != len(b):
        return False
    for i, (x, y) in enumerate(zip(a, b)):
        if i % 2:
            if not math.isclose(float(x), float(y), rel_tol=1e-6, abs_tol=1e-12):
                return False
        elif "".join(x.split()) != "".join(y.split()):
            return False
    return True


printed = []


def recording_print(*args, sep=" ", end="\n", file=None, flush=False):
    if file is None:
        frame = sys._getframe(1)
        printed.append((frame.f_code.co_filename, frame.f_lineno, sep.join(map(str, args))))
    print(*args, sep=sep, end=end, file=file, flush=flush)


namespace = {"__name__": "__main__", "print": recording_print}
for name, code in ast.literal_eval(sys.stdin.read()):
    os.chdir(tempfile.mkdtemp(prefix="block-", dir=sys.argv[1]))
    before = set(namespace)
    try:
        exec(compile(code, name, "exec"), namespace)
        for test in sorted(n for n in namespace if n.startswith("test_") and n not in before):
            if callable(namespace[test]):
                print(f"{name}: calling {test}()", flush=True)
                namespace[test]()
        for line, value in promised(code).items():
            lines = [text for file, number, text in printed if file == name and number == line]
            if not lines or not all(same(text, value) for text in lines):
                raise AssertionError(f"line {line} of the block promises {value!r}; it printed {lines}")
    except BaseException:
        traceback.print_exc()
        print(f"FAILED BLOCK {name}", file=sys.stderr)
        sys.exit(1)
"""


def run_python(block, tmp_path):
    earlier = [b for b in BLOCKS if b.path == block.path and b.lang in PYTHON_LANGS
               and b.reason is None and b.line <= block.line]
    blocks = repr([(b.name, b.code) for b in earlier])
    out = subprocess.run([sys.executable, "-c", RUNNER, str(tmp_path)], input=blocks, capture_output=True,
                         text=True, env=_environment(), cwd=tmp_path, timeout=TIMEOUT)
    if out.returncode != 0:
        failed = re.findall(r"FAILED BLOCK (\S+)", out.stderr)
        where = failed[-1] if failed else "the runner"
        pytest.fail(f"{block.name}: python block failed ({where} raised)\n{out.stdout}\n{out.stderr}",
                    pytrace=False)


def run_shell(block, commands, tmp_path):
    for env, argv in commands:
        out = subprocess.run(argv, capture_output=True, text=True, env=_environment(env), cwd=tmp_path,
                             timeout=TIMEOUT)
        shown = " ".join(["tinynn", *argv[3:]])
        assert out.returncode == 0, f"{block.name}: `{shown}` exited {out.returncode}\n{out.stdout}\n{out.stderr}"


RUN = [b for b in BLOCKS if b.reason is None]
NOT_RUN = [b for b in BLOCKS if b.reason is not None]


def test_every_not_run_marker_says_why():
    """Marked blocks are not test cases of their own (a case that can only skip proves nothing);
    this lists them, and each must give its reason."""
    for block in NOT_RUN:
        print(f"not run: {block.name}: {block.reason}")
    assert all(b.reason for b in NOT_RUN), [b.name for b in NOT_RUN if not b.reason]


@pytest.mark.parametrize("block", RUN, ids=[b.name for b in RUN])
def test_block(block, tmp_path):
    if block.lang in PYTHON_LANGS:
        run_python(block, tmp_path)
        return
    commands = shell_commands(block.code) if block.lang in SHELL_LANGS else None
    assert commands is not None, (
        f"{block.name}: cannot run a ```{block.lang or '(indented or unlabelled)'} block; make it python or "
        f"`tinynn ...` commands, or mark it with <!-- not-run: reason --> on the line above:\n{block.code}")
    run_shell(block, commands, tmp_path)


def test_every_marker_stands_above_a_block():
    orphans = [orphan for _, orphans in ALL for orphan in orphans]
    assert not orphans, f"not-run markers with no code block under them (file:line): {orphans}"


def test_readme_sizes_match_the_commands_beside_them():
    """README states the size of the code as "about N ... (`command`)"; each command, run in the
    checkout, must count within 5% of N, so the figure is re-measured when the code moves."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    claims = re.findall(r"about ([\d,]+)[^(`]*?\(`(find [^`]+\| *wc -l)`\)", text)
    assert len(claims) >= 3, "README should state the line counts of tinynn/, its graph core and kernels/"
    for stated, command in claims:
        out = subprocess.run(["bash", "-c", command], capture_output=True, text=True, cwd=ROOT, timeout=60)
        assert out.returncode == 0 and out.stdout.strip().isdigit(), (command, out.stderr)
        stated, counted = int(stated.replace(",", "")), int(out.stdout)
        assert abs(counted - stated) <= 0.05 * stated, f"README says about {stated:,} for `{command}`; it counts {counted:,}"


def test_the_documents_have_blocks():
    """Guards the parser: README and the chapters hold code, so finding none means it broke."""
    assert len(DOCUMENTS) >= 9 and len(BLOCKS) >= 20, [b.name for b in BLOCKS]

"""`tinynn bench`: finds benchmarks/ from a checkout (also for an installed tinynn run inside its
clone), falls back to a built-in timing outside one, honours --list, names, --quick and --dir, and
shows every figure with its spread."""
import ast
import os
import pathlib
import shutil
import subprocess
import sys

import pytest

import tinynn as tn
from tinynn.cli import bench
from tinynn.cli.main import main
from tinynn.cli.common import EXIT_FAILURE

PKG_PARENT = pathlib.Path(tn.__file__).parent.parent
CHECKOUT = pathlib.Path(__file__).resolve().parents[2]  # CI tests an installed tinynn: benchmarks/ is here
FAKE = '"""A fake benchmark."""\nimport sys\nimport tinynn\nprint("fake ran", sys.argv[1:], tinynn.__file__)\n'


def tinynn_command(*argv, cwd, package_parent=PKG_PARENT):
    """`tinynn ARGV` as the console script runs it: the current folder is not on sys.path."""
    code = "import sys; sys.path.pop(0); from tinynn.cli.main import main; sys.exit(main())"
    env = {**os.environ, "PYTHONPATH": str(package_parent)}
    return subprocess.run([sys.executable, "-c", code, *map(str, argv)], capture_output=True, text=True, cwd=cwd,
                          env=env, timeout=300)


def fake_checkout(root, scripts=None, built=False):
    """A folder shaped like a clone of tinynn; its package is unbuilt source that fails on import."""
    (root / "tinynn").mkdir(parents=True)
    (root / "tinynn" / "__init__.py").write_text('raise ImportError("the unbuilt checkout was imported")\n')
    (root / "benchmarks").mkdir()
    for name, text in (scripts or {"bench_fake.py": FAKE}).items():
        (root / "benchmarks" / name).write_text(text)
    return root


def test_find_benchmarks_next_to_the_package_or_above_the_current_folder(tmp_path):
    checkout = fake_checkout(tmp_path / "clone")
    (checkout / "docs").mkdir()
    elsewhere = tmp_path / "site-packages"
    elsewhere.mkdir()
    assert bench.find_benchmarks(checkout, elsewhere) == checkout / "benchmarks"       # a source checkout
    assert bench.find_benchmarks(elsewhere, checkout / "docs") == checkout / "benchmarks"  # installed, run inside
    assert bench.find_benchmarks(elsewhere, elsewhere) is None                          # installed, outside
    (tmp_path / "other" / "benchmarks").mkdir(parents=True)                            # not tinynn's: no tinynn/
    (tmp_path / "other" / "benchmarks" / "bench_x.py").write_text("")
    assert bench.find_benchmarks(elsewhere, tmp_path / "other") is None


def test_an_installed_tinynn_inside_and_outside_the_checkout(tmp_path):
    """After `pip install .` (here: the package copied to a site folder), `tinynn bench --list` run in
    the clone lists its scripts; outside a clone it lists the built-in timing and says where the
    scripts are when one is asked for by name."""
    site = tmp_path / "site"
    shutil.copytree(pathlib.Path(tn.__file__).parent, site / "tinynn", ignore=shutil.ignore_patterns("__pycache__"))
    r = tinynn_command("bench", "--list", cwd=CHECKOUT / "docs", package_parent=site)
    assert r.returncode == 0, r.stderr
    listed = [line.split()[0] for line in r.stdout.splitlines()]
    assert {"matmul", "train", "overhead", "builtin"} <= set(listed)
    outside = tmp_path / "work"
    outside.mkdir()
    r = tinynn_command("bench", "--list", cwd=outside, package_parent=site)
    assert r.returncode == 0 and r.stdout.split()[0] == "builtin", r.stderr
    r = tinynn_command("bench", "matmul", cwd=outside, package_parent=site)
    assert r.returncode == EXIT_FAILURE and r.stderr.count("\n") == 1
    assert "no benchmark named matmul; available: builtin" in r.stderr and "source checkout" in r.stderr


def test_list_and_names_are_honoured(tmp_path, capsys):
    fake_checkout(tmp_path, {"bench_fake.py": FAKE, "bench_other.py": '"""Another one."""\n'})
    assert main(["bench", "--dir", tmp_path / "benchmarks", "--list"]) == 0
    out = capsys.readouterr().out
    assert [line.split()[0] for line in out.splitlines()] == ["fake", "other", "builtin"]
    assert "A fake benchmark." in out
    assert main(["bench", "--dir", tmp_path / "benchmarks", "--list", "bench_other.py"]) == 0
    assert capsys.readouterr().out.split()[:3] == ["other", "Another", "one."]
    assert main(["bench", "--dir", tmp_path / "benchmarks", "nosuch"]) == EXIT_FAILURE
    assert "no benchmark named nosuch; available: fake, other, builtin" in capsys.readouterr().err
    for folder in (tmp_path / "nosuch", tmp_path):  # a folder that is not there, one without bench_*.py
        assert main(["bench", "--dir", folder]) == EXIT_FAILURE
        assert "no such folder, or no bench_*.py in it" in capsys.readouterr().err


def test_relative_and_absolute_dir_run_the_scripts_with_this_tinynn(tmp_path):
    """A relative --dir is not doubled; an absolute one into an unbuilt checkout runs its scripts on the
    tinynn of the command (the scripts never import the source tree next to them)."""
    fake_checkout(tmp_path / "clone")
    r = tinynn_command("bench", "--dir", "benchmarks", "fake", "--", "--x", "1", cwd=tmp_path / "clone")
    assert r.returncode == 0, r.stderr
    assert "fake ran ['--x', '1']" in r.stdout and str(pathlib.Path(tn.__file__)) in r.stdout
    r = tinynn_command("bench", "--dir", tmp_path / "clone" / "benchmarks", "fake", "--quick", cwd=tmp_path)
    assert r.returncode == 0 and "fake ran ['--quick']" in r.stdout, r.stderr


def test_real_scripts_import_the_commands_tinynn_and_take_quick(tmp_path):
    """Every script of benchmarks/, copied into an unbuilt clone, starts with --quick (to --help)."""
    scripts = {p.name: p.read_text() for p in (CHECKOUT / "benchmarks").glob("*.py")}
    fake_checkout(tmp_path / "clone", scripts)
    r = tinynn_command("bench", "--dir", tmp_path / "clone" / "benchmarks", "--quick", "--", "--help", cwd=tmp_path)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr
    assert r.stdout.count("--quick") >= 2 * len([s for s in scripts if s.startswith("bench_")])


def test_broken_script_fails_the_run(tmp_path):
    fake_checkout(tmp_path, {"bench_broken.py": "raise SystemExit(3)\n"})
    r = tinynn_command("bench", "--dir", tmp_path / "benchmarks", cwd=tmp_path)
    assert r.returncode == EXIT_FAILURE and "bench_broken.py exited with status 3" in r.stderr


def _script_options(path):
    """The option strings a benchmark script's argparse parser declares, and its QUICK list (read
    from its source: the scripts need not import here)."""
    options, quick = {"--quick"}, None
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "add_argument":
            names = [a.value for a in node.args if isinstance(a, ast.Constant) and str(a.value).startswith("--")]
            options.update(names)
            if any(k.arg == "action" and "BooleanOptionalAction" in ast.unparse(k.value) for k in node.keywords):
                options.update("--no-" + n[2:] for n in names)
        if isinstance(node, ast.Assign) and [getattr(t, "id", None) for t in node.targets] == ["QUICK"]:
            quick = ast.literal_eval(node.value)
    return options, quick


def test_each_scripts_quick_settings_are_its_own_options():
    """Each script declares its quick settings (QUICK, applied by its --quick): every option named
    there must be one its parser declares, or `tinynn bench --quick` fails on an argparse error."""
    for script in sorted((CHECKOUT / "benchmarks").glob("bench_*.py")):
        options, quick = _script_options(script)
        assert quick is not None, f"{script.name} declares no QUICK settings"
        for option in (a for a in quick if a.startswith("--")):
            assert option in options, f"{script.name} has no option {option}"


def test_spread_and_the_words_for_a_spread_too_wide():
    assert bench.spread([2.0, 2.0, 2.0, 2.0]) == (2.0, 0.0)
    median, s = bench.spread([1.0, 2.0, 3.0, 4.0, 5.0])  # quartiles 2 and 4: half the range, 1, over the median 3
    assert median == 3.0 and s == pytest.approx(1 / 3)
    assert bench.noise_note({"64 tinynn": 0.02, "64 numpy": 0.05}) == ""
    note = bench.noise_note({"64 tinynn": 0.02, "512 numpy": 1 / 3, "512 speed-up": 0.2})
    assert note.startswith("spread too wide to trust: 2 of 3 figures") and "512 numpy, +-33%" in note


def test_builtin_timing_shows_every_figures_spread(monkeypatch, capsys):
    monkeypatch.setattr(bench, "find_benchmarks", lambda package_root, cwd: None)
    assert main(["bench", "--quick", "--seed", "1"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("benchmarks/ not found")
    rows = [line for line in out.splitlines() if line.split()[:1] and "x" in line.split()[0] and line[0].isdigit()]
    assert [r.split()[0] for r in rows] == ["64x64x64", "128x128x128", "256x256x256"]
    for row in rows:  # tinynn ms, numpy ms and the speed-up each with +-spread
        assert row.count("+-") == 3 and row.split()[-1].endswith("%")

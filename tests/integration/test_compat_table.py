"""docs/10-pytorch-compatibility.md's table is the one scripts/compat_table.py generates from the
installed tinynn now, so the page cannot drift from the code (the page's own code block does the
same check from a checkout)."""
import pathlib
import runpy

ROOT = pathlib.Path(__file__).resolve().parents[2]


def test_the_compatibility_table_is_current():
    script = runpy.run_path(str(ROOT / "scripts" / "compat_table.py"))
    page = (ROOT / "docs" / "10-pytorch-compatibility.md").read_text()
    table = script["table"]()
    assert table.count("\n") > 50, "the generated table is suspiciously short"
    assert table in page, "docs/10-pytorch-compatibility.md is stale: run python scripts/compat_table.py"

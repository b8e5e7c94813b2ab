"""No import circle among tinynn's modules (issue 14, acceptance 1).

The graph is read from the source with `ast`, not from a running interpreter, so it sees every
import a module can make, whichever runs first:
- absolute (`import tinynn.x`, `from tinynn.x import y`) and relative (`from ..x import y`) imports;
- imports inside functions and methods count like those at the top: a lazy import only delays
  the circle to the first call (where it can still fail half-initialised), so it is no way out;
- `from package import name` is an edge to the submodule `package.name` when there is one, else
  to the package's `__init__`;
- importing `a.b.c` also runs `a/__init__.py` and `a/b/__init__.py` first, unless the importer
  is inside that package already (then it is being run): those are edges too. So a module may
  not import from a package whose `__init__` leads back to it, which would work only in one
  import order;
- `importlib.import_module` calls are not read (tinynn's `__getattr__` loads submodules that way
  on first use, after every module involved has finished importing).
"""
import ast
import pathlib

import tinynn

ROOT = pathlib.Path(tinynn.__file__).parent


def module_name(path):
    parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules():
    """{dotted name: path} of every Python module under tinynn/."""
    return {module_name(p): p for p in sorted(ROOT.rglob("*.py"))}


def imported_names(path, name, known):
    """The dotted names of the modules `path` (module `name`) imports, anywhere in its source."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module
            for alias in node.names:  # a submodule, else a name the package's __init__ defines
                sub = f"{target}.{alias.name}"
                is_name = sub not in known and target in known and alias.name in defined_names(known[target])
                found.append(target if is_name else sub)
    return found


def defined_names(path):
    """The names a module binds at its top level (so `from it import name` is not a submodule;
    `tinynn.kernels`, an extension module, has no .py to list and is left out of the graph)."""
    names = set()
    for node in ast.parse(path.read_text(), filename=str(path)).body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names.update(n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name))
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
    return names


def import_graph():
    """{module: set of tinynn modules it depends on}."""
    known = modules()
    graph = {}
    for name, path in known.items():
        edges = set()
        for target in imported_names(path, name, known):
            if target not in known:
                continue  # outside tinynn
            parts = target.split(".")
            for depth in range(1, len(parts) + 1):
                prefix = ".".join(parts[:depth])
                if prefix == target or not (name == prefix or name.startswith(prefix + ".")):
                    edges.add(prefix)  # the module itself, and each package __init__ it runs first
        edges.discard(name)
        graph[name] = edges
    return graph


def find_cycle(graph):
    """One import circle as a list [m0, m1, ..., m0], or None (depth-first search, iterative)."""
    state = {}  # 1: on the current path, 2: done
    for start in sorted(graph):
        if state.get(start):
            continue
        path, stack = [start], [iter(sorted(graph[start]))]
        state[start] = 1
        while stack:
            nxt = next(stack[-1], None)
            if nxt is None:
                state[path.pop()] = 2
                stack.pop()
            elif state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            elif not state.get(nxt):
                state[nxt] = 1
                path.append(nxt)
                stack.append(iter(sorted(graph[nxt])))
    return None


def circles(graph):
    """One circle per group of modules that import each other (each strongly connected component)."""
    found = []
    remaining = dict(graph)
    while (cycle := find_cycle(remaining)) is not None:
        found.append(cycle)
        group = reachable(remaining, cycle[0]) & {m for m in remaining if cycle[0] in reachable(remaining, m)}
        remaining = {m: edges - group for m, edges in remaining.items() if m not in group}
    return found


def reachable(graph, start):
    seen, todo = {start}, [start]
    while todo:
        for nxt in graph.get(todo.pop(), ()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def test_no_import_circle_among_tinynn_modules():
    found = circles(import_graph())
    assert not found, "import circles:\n" + "\n".join(" -> ".join(cycle) for cycle in found)


def test_the_graph_reads_every_kind_of_import():
    graph = import_graph()
    assert "tinynn.autograd.function" in graph["tinynn.ops.arithmetic"]  # from ..autograd import Function
    assert "tinynn.autograd" in graph["tinynn.ops.arithmetic"]           # ...runs autograd/__init__ first
    assert "tinynn.autograd.engine" in graph["tinynn.ops.methods"]       # from ..autograd import engine
    assert "tinynn.tensor" in graph["tinynn.autograd.function"]          # from ..tensor import ...
    assert "tinynn.ops.arithmetic" in graph["tinynn.ops"]                # a package's own __init__
    assert "tinynn.ops" not in graph["tinynn.ops.methods"]               # a sibling does not run its package
    assert len(graph) >= 40


def test_find_cycle_names_a_circle_including_one_made_by_a_function_level_import(tmp_path):
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    two = {"a": {"b"}, "b": {"a", "c"}, "c": {"d"}, "d": {"c"}, "e": {"a"}}
    assert circles(two) == [["a", "b", "a"], ["c", "d", "c"]]
    lazy = tmp_path / "lazy.py"
    lazy.write_text("def f():\n    from .tensor import Tensor\n    import tinynn.ops.methods\n")
    known = modules()
    assert imported_names(lazy, "tinynn.lazy", known) == ["tinynn.tensor", "tinynn.ops.methods"]

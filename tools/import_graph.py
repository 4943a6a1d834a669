"""What running a Python file can import: the third-party modules its code reaches through a package.

The package keeps heavy imports inside the functions that need them (`import faiss` inside
swimscale.retrieval's search functions, so that the analysis env evaluates without FAISS). So an
import counts where its code can run: the module-level code of every module that gets imported, and
the body of every function or class that reached code names. Reached means named, conservatively: a
function or class of a module is reached when reached code names it — bare (`build_flat_ip(...)`), through
an import (`from swimscale.retrieval import build_flat_ip`, following re-exports of `__init__`), or as
an attribute of the module (`retrieval.build_flat_ip`). A reached class brings all its methods. A
module-level `NAME = value` runs what `value` calls at import; the functions it merely holds (a
registry of sources) are reached when reached code names NAME.

Not followed: imports under `if TYPE_CHECKING:` (never run) and in a `try:` whose handler catches
ImportError without raising (optional by design); names built at run time other than string constants passed to
`__import__` or `importlib.import_module` (or entries of a module-level dict of them).
"""

from __future__ import annotations

import ast
import functools
import sys
from dataclasses import dataclass, field
from pathlib import Path

DEFINITIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


@functools.lru_cache(maxsize=None)
def _parsed(path: Path, mtime: int) -> ast.Module:
    """A file's syntax tree, parsed once per version of the file (the walk never changes it)."""
    return ast.parse(path.read_text(), filename=str(path))


def _skipped_body(node: ast.AST) -> list[ast.stmt]:
    """The statements of `node` that never run (`if TYPE_CHECKING:`) or may fail by design (a `try:`
    catching ImportError)."""
    if isinstance(node, ast.If):
        test = node.test
        if (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
                isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"):
            return node.body
    if isinstance(node, ast.Try):
        for handler in node.handlers:
            kinds = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
            catches = {k.id for k in kinds if isinstance(k, ast.Name)} & {"ImportError", "ModuleNotFoundError"}
            # a handler that raises (a clearer message) makes the import required, not optional
            if catches and not any(isinstance(n, ast.Raise) for n in ast.walk(handler)):
                return node.body
    return []


def _assigned_name(node: ast.AST) -> str | None:
    """NAME of `NAME = value` or `NAME: type = value`."""
    if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
        return node.targets[0].id
    if isinstance(node, ast.AnnAssign) and node.value is not None and isinstance(node.target, ast.Name):
        return node.target.id
    return None


def _dotted(node: ast.expr) -> list[str]:
    """`a.b.c` as ["a", "b", "c"]; [] for anything but names and attributes."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    return [node.id, *reversed(parts)] if isinstance(node, ast.Name) else []


@dataclass
class Module:
    """One parsed file: its top-level definitions, module-level import bindings and string constants."""

    name: str
    path: Path
    package: str
    tree: ast.Module
    definitions: dict[str, ast.AST] = field(default_factory=dict)  # def, class, or a module-level value
    constants: dict[str, list[str]] = field(default_factory=dict)
    bindings: dict[str, tuple[str, str | None]] = field(default_factory=dict)  # name -> (module, attribute)

    @classmethod
    def parse(cls, name: str, path: Path) -> Module:
        tree = _parsed(path, path.stat().st_mtime_ns)
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        module = cls(name, path, package, tree)
        for node in tree.body:
            if isinstance(node, DEFINITIONS):
                module.definitions[node.name] = node
            elif _assigned_name(node):
                module.definitions[_assigned_name(node)] = node.value
                try:
                    value = ast.literal_eval(node.value)
                except ValueError:
                    continue
                values = value.values() if isinstance(value, dict) else value if isinstance(value, list | tuple) else []
                module.constants[node.targets[0].id] = [v for v in values if isinstance(v, str)]
        module.bind_imports(tree)
        return module

    def bind_imports(self, node: ast.AST) -> None:
        """The names that the imports in `node` bind (not inside definitions: those bind when they run)."""
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.Import):
                for alias in child.names:
                    bound = alias.name if alias.asname else alias.name.split(".")[0]
                    self.bindings.setdefault(alias.asname or bound, (bound, None))
            elif isinstance(child, ast.ImportFrom):
                for alias in child.names:
                    self.bindings.setdefault(alias.asname or alias.name, (self.absolute(child), alias.name))
            elif not isinstance(child, DEFINITIONS):
                self.bind_imports(child)

    def absolute(self, node: ast.ImportFrom) -> str:
        """The module an `from ... import` names, relative imports made absolute."""
        if not node.level:
            return node.module or ""
        parts = self.package.split(".")
        base = parts[: len(parts) - node.level + 1]
        return ".".join(base + ([node.module] if node.module else []))


class Reach:
    """Walks what running an entry file can execute, for one first-party package under `src`."""

    def __init__(self, src: Path, package: str, root: Path):
        self.src, self.package, self.root = src, package, root
        self.modules: dict[str, Module] = {}
        self.visited: set[tuple[str, str]] = set()  # (module, definition) or (module, "") for its top level
        self.third_party: dict[str, str] = {}  # top-level module -> first place importing it
        self.queue: list[tuple[Module, ast.AST, bool, str]] = []
        self.current = ""  # the module or definition being walked
        self.via: dict[str, tuple[str, str]] = {}  # module or definition -> (where it was named, by what)
        self.origin: dict[str, str] = {}  # third-party module -> the module or definition importing it

    def enqueue(self, module: Module, node: ast.AST, top_level: bool, label: str, where: str) -> None:
        self.via.setdefault(label, (where, self.current))
        self.queue.append((module, node, top_level, label))

    def why(self, third_party: str) -> list[str]:
        """How the entry reaches the import of `third_party`: the chain of names, innermost first."""
        chain, label = [f"imported at {self.third_party[third_party]}"], self.origin[third_party]
        while label:
            where, parent = self.via[label]
            chain.append(f"{label}, named at {where}")
            label = parent
        return chain

    # --- first-party modules ---------------------------------------------------------------------
    def file_of(self, name: str) -> Path | None:
        base = self.src.joinpath(*name.split("."))
        return next((p for p in (base / "__init__.py", base.with_suffix(".py")) if p.exists()), None)

    def execute(self, name: str, where: str) -> None:
        """Importing first-party `name`: its parent packages and it run their module-level code."""
        parts = name.split(".")
        for i in range(1, len(parts) + 1):
            prefix = ".".join(parts[:i])
            if (prefix, "") in self.visited:
                continue
            path = self.file_of(prefix)
            if path is None:
                raise ImportError(f"{where}: no module {prefix} in {self.src}")
            self.visited.add((prefix, ""))
            module = self.modules[prefix] = Module.parse(prefix, path)
            self.enqueue(module, module.tree, True, prefix, where)

    def want(self, name: str, attribute: str, where: str) -> None:
        """Reached code uses `attribute` of first-party module `name`: a submodule, a definition, or a re-export."""
        if self.file_of(f"{name}.{attribute}"):
            self.execute(f"{name}.{attribute}", where)
            return
        self.execute(name, where)
        module = self.modules[name]
        if attribute in module.definitions and (name, attribute) not in self.visited:
            self.visited.add((name, attribute))
            self.enqueue(module, module.definitions[attribute], False, f"{name}.{attribute}", where)
        elif attribute in module.bindings:
            self.resolve_binding(module.bindings[attribute], where)

    def resolve_binding(self, binding: tuple[str, str | None], where: str) -> None:
        target, attribute = binding
        if target.split(".")[0] == self.package and attribute is not None:
            self.want(target, attribute, where)

    # --- walking code ----------------------------------------------------------------------------
    def run(self, entry: Path) -> dict[str, str]:
        """Every third-party top-level module that running `entry` can import, with where."""
        main = Module.parse("__main__", entry)
        self.modules["__main__"] = main
        self.queue.append((main, main.tree, True, ""))
        while self.queue:
            module, node, top_level, self.current = self.queue.pop(0)
            self.visit(module, node, top_level)
        return self.third_party

    def where(self, module: Module, node: ast.AST) -> str:
        path = module.path.relative_to(self.root) if module.path.is_relative_to(self.root) else module.path
        return f"{path}:{getattr(node, 'lineno', 0)}"

    def visit(self, module: Module, node: ast.AST, top_level: bool) -> None:
        skipped = _skipped_body(node)
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            self.import_(module, node)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
            self.use_name(module, node.id, self.where(module, node))
        elif isinstance(node, ast.Attribute):
            self.use_attribute(module, _dotted(node), self.where(module, node))
        elif isinstance(node, ast.Call) and node.args:
            function = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", None)
            if function in ("__import__", "import_module"):
                self.dynamic_import(module, node)
        for child in ast.iter_child_nodes(node):
            if child in skipped:
                continue
            if top_level and node is module.tree and _assigned_name(child) and \
                    module.definitions.get(_assigned_name(child)) is child.value:
                self.visit_callees(module, child.value)
                continue
            if top_level and node is module.tree and isinstance(child, DEFINITIONS):
                # a definition's body runs when reached; its decorators, defaults and bases run now
                for part in [*child.decorator_list, *getattr(child, "bases", []),
                             *(getattr(child.args, "defaults", []) if hasattr(child, "args") else [])]:
                    self.visit(module, part, False)
                continue
            self.visit(module, child, top_level and not isinstance(child, DEFINITIONS))

    def visit_callees(self, module: Module, value: ast.expr) -> None:
        """A module-level `NAME = value` at import: what it calls runs now; the functions it only holds
        (a registry: `POOL_SOURCES = registry(Source(..., prepare=prepare_swimir_pool))`) are reached
        when reached code uses NAME (use_name)."""
        for node in ast.walk(value):
            if isinstance(node, ast.Call):
                self.visit(module, node.func, False)
                function = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", None)
                if function in ("__import__", "import_module") and node.args:
                    self.dynamic_import(module, node)

    def import_(self, module: Module, node: ast.Import | ast.ImportFrom) -> None:
        """An import runs: third-party ones are recorded, first-party modules execute. A name it binds
        reaches its definition only when reached code uses it (use_name)."""
        where = self.where(module, node)
        if isinstance(node, ast.Import):
            for alias in node.names:
                self.record(alias.name, where)
        else:
            base = module.absolute(node)
            self.record(base, where)
            for alias in node.names:
                if base.split(".")[0] == self.package and self.file_of(f"{base}.{alias.name}"):
                    self.execute(f"{base}.{alias.name}", where)
        module.bind_imports(ast.Module(body=[node], type_ignores=[]))  # inside a function: binds from now on

    def record(self, name: str, where: str) -> None:
        top = name.split(".")[0]
        if top == self.package:
            self.execute(name, where)
        elif top and top not in sys.stdlib_module_names:
            if top not in self.third_party:
                self.third_party[top], self.origin[top] = where, self.current

    def dynamic_import(self, module: Module, node: ast.Call) -> None:
        argument = node.args[0]
        if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
            names = [argument.value]
        else:
            parts = _dotted(argument.value if isinstance(argument, ast.Subscript) else argument)
            names = module.constants.get(parts[0], []) if len(parts) == 1 else []
        for name in names:
            self.record(name, self.where(module, node))

    def use_name(self, module: Module, name: str, where: str) -> None:
        if name in module.definitions and (module.name, name) not in self.visited:
            self.visited.add((module.name, name))
            self.enqueue(module, module.definitions[name], False, f"{module.name}.{name}", where)
        elif name in module.bindings:
            self.resolve_binding(module.bindings[name], where)

    def use_attribute(self, module: Module, parts: list[str], where: str) -> None:
        """`alias.x.y` where alias is a first-party module: the submodules and the definition it names."""
        if len(parts) < 2 or parts[0] not in module.bindings:
            return
        target, attribute = module.bindings[parts[0]]
        if target.split(".")[0] != self.package:
            return
        if attribute is not None:
            if not self.file_of(f"{target}.{attribute}"):
                return  # an attribute of a class or object: reached with its definition
            target = f"{target}.{attribute}"
        for part in parts[1:]:
            if not self.file_of(f"{target}.{part}"):
                self.want(target, part, where)
                return
            target = f"{target}.{part}"
            self.execute(target, where)

"""Dependencies go one way, as the README's table says; workflows stay sandbox-safe."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
OURS = {
    "domain",
    "linkedin",
    "activities",
    "workflows",
    "workers",
    "client",
    "api",
    "linkedin_sandbox",
    "cli",
    "settings",
    "chaos",
}
ALLOWED = {
    "domain": set(),
    "linkedin": {"domain"},
    "activities": {"domain", "linkedin"},
    "workflows": {"domain"},
    "workers": {
        "domain",
        "linkedin",
        "activities",
        "workflows",
        "client.connection",
        "client.codec",
        "settings",
    },
    "client": {"domain", "workflows.search_attributes"},
    "api": {"domain", "client", "settings"},
    "linkedin_sandbox": set(),
    "settings": {"domain", "client.codec"},
    "cli": OURS,
    "chaos": OURS,
}


def imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def allowed(package: str, name: str) -> bool:
    """A package may import itself and what ALLOWED lists, with their submodules."""
    return any(name == rule or name.startswith(rule + ".") for rule in ALLOWED[package] | {package})


@pytest.mark.parametrize("package", sorted(OURS))
def test_packages_import_only_what_they_may(package: str) -> None:
    for path in (ROOT / package).rglob("*.py"):
        for name in imports(path):
            if name.split(".")[0] in OURS:
                assert allowed(package, name), f"{path.relative_to(ROOT)} imports {name}"


def test_workflows_import_only_domain_temporalio_and_the_standard_library() -> None:
    for path in (ROOT / "workflows").rglob("*.py"):
        for name in imports(path):
            top = name.split(".")[0]
            assert top in {"domain", "workflows", "temporalio", "__future__"} or (
                top in sys.stdlib_module_names
            ), f"{path.relative_to(ROOT)} imports {name}"


def sandbox_imports(path: Path) -> set[str]:
    """The linkedin_sandbox modules one of its modules imports, `from package import x` too."""
    package = ROOT / "linkedin_sandbox"
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names if a.name.startswith("linkedin_sandbox."))
        elif isinstance(node, ast.ImportFrom) and node.module == "linkedin_sandbox":
            names.update(
                f"linkedin_sandbox.{a.name}"
                for a in node.names
                if (package / f"{a.name}.py").exists()
            )
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith(
            "linkedin_sandbox."
        ):
            names.add(str(node.module))
    return names


def test_sandbox_modules_import_each_other_without_a_cycle() -> None:
    """Resources share the world and errors from modules below them; only the package
    imports app.py, which assembles them."""
    graph = {
        f"linkedin_sandbox.{path.stem}": sandbox_imports(path)
        for path in (ROOT / "linkedin_sandbox").glob("*.py")
        if path.stem != "__init__"
    }
    assert [m for m, deps in graph.items() if "linkedin_sandbox.app" in deps] == []
    done: set[str] = set()

    def visit(module: str, path: tuple[str, ...]) -> None:
        assert module not in path, f"import cycle: {' -> '.join((*path, module))}"
        if module in done:
            return
        for dependency in sorted(graph.get(module, set())):
            visit(dependency, (*path, module))
        done.add(module)

    for module in sorted(graph):
        visit(module, ())


def test_failure_types_are_named_once_not_spelled_as_strings() -> None:
    """An ApplicationError's type, and a retry policy's non-retryable types, come from
    domain.errors' enums (or a class built on them), never a string literal."""
    for package in ("workflows", "activities"):
        for path in (ROOT / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                if not isinstance(node, ast.Call):
                    continue
                for keyword in node.keywords:
                    literal = isinstance(keyword.value, ast.Constant) and isinstance(
                        keyword.value.value, str
                    )
                    listed = isinstance(keyword.value, ast.List) and any(
                        isinstance(e, ast.Constant) for e in keyword.value.elts
                    )
                    where = f"{path.relative_to(ROOT)}:{node.lineno}"
                    if keyword.arg == "type":
                        assert not literal, f"{where}: a failure type spelled as a string"
                    if keyword.arg == "non_retryable_error_types":
                        assert not listed, f"{where}: failure types spelled as strings"


DECIDERS = [ROOT / "domain" / "job_lifecycle.py", ROOT / "domain" / "integration_lifecycle.py"]
PURE_STDLIB = {"__future__", "dataclasses", "datetime", "enum", "hashlib", "json", "typing"}
CLOCKS = {"now", "utcnow", "today", "time", "monotonic", "sleep", "random", "uuid4"}


@pytest.mark.parametrize("path", DECIDERS, ids=lambda p: p.stem)
def test_the_deciders_are_pure_functions_of_their_state(path: Path) -> None:
    """No Temporal, no I/O, no clock but the one passed in: every rule tests in milliseconds."""
    for name in imports(path):
        top = name.split(".")[0]
        assert top in {"domain", "pydantic"} | PURE_STDLIB, f"{path.name} imports {name}"
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            assert node.func.attr not in CLOCKS, f"{path.name}:{node.lineno} calls {node.func.attr}"


def test_the_integration_workflow_is_a_thin_shell_around_its_decider() -> None:
    """Its rules live in domain/integration_lifecycle.py; the workflow holds the mechanics."""
    text = (ROOT / "workflows" / "integration.py").read_text()
    assert len(text.splitlines()) <= 400
    assert "from domain import integration_lifecycle as rules" in text
    assert "FailureType" not in text  # what a failure means is the decider's to say

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
    },
    "client": {"domain", "workflows.search_attributes"},
    "api": {"domain", "client", "workers.settings"},
    "linkedin_sandbox": set(),
    "cli": OURS,
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

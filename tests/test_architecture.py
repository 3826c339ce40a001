"""Dependencies go one way, as the README's table says; workflows stay sandbox-safe."""

from __future__ import annotations

import ast
import sys
from pathlib import Path
from typing import Any

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
        "client.documents",
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


def package_imports(path: Path, package: str) -> set[str]:
    """The modules of `package` that one module imports, `from package import x` too."""
    folder = ROOT / package.replace(".", "/")
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names if a.name.startswith(f"{package}."))
        elif isinstance(node, ast.ImportFrom) and node.module == package:
            names.update(
                f"{package}.{a.name}"
                for a in node.names
                if (folder / f"{a.name}.py").exists() or (folder / a.name).is_dir()
            )
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith(f"{package}."):
            names.add(str(node.module))
    return names


def sandbox_imports(path: Path) -> set[str]:
    return package_imports(path, "linkedin_sandbox")


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


# -- the HTTP API: routers per resource, typed dependencies, an app that only assembles ----

API = ROOT / "api"
ROUTES = API / "routes"
ROUTE_MODULES = sorted(p for p in ROUTES.glob("*.py") if p.stem != "__init__")
ROUTE_MAY_IMPORT = {"api.deps", "api.errors", "api.paths"}
"""What a resource's routes may use of the API package: never the app, the edge, or
another resource's routes."""
DECORATORS = {"get", "post", "put", "delete", "patch", "head", "options", "api_route", "route"}


def test_each_resource_has_a_module_of_routes() -> None:
    assert {p.stem for p in ROUTE_MODULES} >= {"integrations", "applications", "jobs", "webhooks"}


@pytest.mark.parametrize("path", ROUTE_MODULES, ids=lambda p: p.stem)
def test_route_modules_import_deps_and_errors_never_the_app_nor_each_other(path: Path) -> None:
    for name in package_imports(path, "api"):
        assert name in ROUTE_MAY_IMPORT, f"{path.relative_to(ROOT)} imports {name}"


@pytest.mark.parametrize("path", ROUTE_MODULES, ids=lambda p: p.stem)
def test_route_modules_define_one_module_level_router(path: Path) -> None:
    tree = ast.parse(path.read_text())
    routers = [
        node
        for node in tree.body
        if isinstance(node, ast.Assign)
        and [t.id for t in node.targets if isinstance(t, ast.Name)] == ["router"]
        and isinstance(node.value, ast.Call)
        and getattr(node.value.func, "id", None) == "APIRouter"
    ]
    assert len(routers) == 1, f"{path.relative_to(ROOT)} has no module-level router"
    nested = [
        node.name
        for top in tree.body
        if isinstance(top, ast.FunctionDef | ast.AsyncFunctionDef)
        for node in ast.walk(top)
        if node is not top and isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    ]
    assert nested == [], f"{path.relative_to(ROOT)} defines routes in a closure: {nested}"


def test_deps_import_neither_routes_nor_the_app() -> None:
    for name in package_imports(API / "deps.py", "api"):
        assert not name.startswith(("api.routes", "api.app")), f"api/deps.py imports {name}"


def test_only_the_app_imports_the_routes() -> None:
    for path in API.rglob("*.py"):
        if path == API / "app.py" or path.parent == ROUTES:
            continue
        for name in package_imports(path, "api"):
            assert not name.startswith("api.routes"), f"{path.relative_to(ROOT)} imports {name}"


def test_create_app_only_assembles() -> None:
    """No route is defined in api/app.py: each lives in its resource's module."""
    for node in ast.walk(ast.parse((API / "app.py").read_text())):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            for decorator in node.decorator_list:
                call = decorator.func if isinstance(decorator, ast.Call) else decorator
                assert not (isinstance(call, ast.Attribute) and call.attr in DECORATORS), (
                    f"api/app.py defines a route: {node.name}"
                )


def test_every_route_takes_the_token_unless_its_router_is_open() -> None:
    from fastapi.routing import APIRoute

    from api import routes
    from api.app import create_app
    from settings import Settings

    def operations(routers: tuple[Any, ...]) -> set[tuple[str, str]]:
        return {
            (method.lower(), route.path)
            for router in routers
            for route in router.routes
            if isinstance(route, APIRoute) and route.include_in_schema
            for method in route.methods
        }

    spec = create_app(Settings()).openapi()
    documented = {
        (method, path): "security" in operation
        for path, methods in spec["paths"].items()
        for method, operation in methods.items()
    }
    behind, open_ = operations(routes.BEHIND_TOKEN), operations(routes.OPEN)
    assert documented == {op: True for op in behind} | {op: False for op in open_}


APPLY_CONNECT = {
    "domain/apply_questions.py": "domain",
    "domain/applications.py": "domain",
    "activities/applications.py": "activities",
    "workflows/application.py": "workflows",
    "client/applications.py": "client",
    "client/documents.py": "client",
    "api/routes/job_applications.py": "api",
    "cli/applications.py": "cli",
    "linkedin_sandbox/apply.py": "linkedin_sandbox",
    "linkedin_sandbox/questions.py": "linkedin_sandbox",
}


def test_apply_connect_modules_keep_to_their_layer() -> None:
    """Apply Connect's modules exist where their layer's rules reach them: the document
    store is the one client module a worker may take besides the connection and codec, and
    neither the API nor the workflows reach activities or the LinkedIn client."""
    for relative, package in APPLY_CONNECT.items():
        path = ROOT / relative
        assert path.exists(), relative
        for name in imports(path):
            if name.split(".")[0] in OURS:
                assert allowed(package, name), f"{relative} imports {name}"
    worker_imports = imports(ROOT / "workers" / "worker.py")
    assert {n for n in worker_imports if n.startswith("client.")} <= {
        "client.connection",
        "client.codec",
        "client.documents",
    }
    for relative in ("api/routes/job_applications.py", "workflows/application.py"):
        assert not {
            n for n in imports(ROOT / relative) if n.split(".")[0] in {"activities", "linkedin"}
        }


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

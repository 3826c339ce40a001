"""The OpenAPI document as a generated client reads it: short operation ids, and every
error answer a Problem under `application/problem+json`.

FastAPI names an operation by its function, path and method
(`put_job_v1_customers_…_put`), files every response model under the route's media type
(application/json), and documents 422 as its own HTTPValidationError. The API answers
errors as problem details (api.errors), so `install` rewrites those answers once, when
the document is first built.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute
from pydantic.alias_generators import to_camel

from api.errors import ANSWERS, PROBLEM

PROBLEM_SCHEMA = {"$ref": "#/components/schemas/Problem"}
FASTAPIS_422 = {"$ref": "#/components/schemas/HTTPValidationError"}


def operation_id(route: APIRoute) -> str:
    """`putJob` for `put_job`: a generated client's function is then `put_job` too."""
    return to_camel(route.name)


def install(app: FastAPI) -> None:
    """Serve the document with its error answers documented as the API gives them."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = problems_documented(build())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def problems_documented(spec: dict[str, Any]) -> dict[str, Any]:
    """Each 4xx and 5xx a Problem, a 413 wherever a body is taken (the edge's limit)."""
    for methods in spec.get("paths", {}).values():
        for operation in methods.values():
            answers: dict[str, Any] = operation["responses"]
            if "requestBody" in operation:
                answers.setdefault("413", {"description": ANSWERS[413]})
            for status, answer in answers.items():
                if status[0] not in "45":
                    continue
                schema = answer.get("content", {}).get("application/json", {}).get("schema")
                if schema == FASTAPIS_422:
                    schema, answer["description"] = PROBLEM_SCHEMA, ANSWERS[422]
                elif status == "413":
                    schema = PROBLEM_SCHEMA
                answer["content"] = _problem_first(schema, f"{operation['operationId']} {status}")
            operation["responses"] = dict(sorted(answers.items()))
    schemas = spec.get("components", {}).get("schemas", {})
    for fastapis in ("HTTPValidationError", "ValidationError"):
        schemas.pop(fastapis, None)
    return spec


def _problem_first(schema: dict[str, Any] | None, answer: str) -> dict[str, Any]:
    """The answer's media types: the problem first, what else it may be after.

    An answer that is a Problem or something else (a job write's 422 is the operation
    LinkedIn refused) keeps the union under problem+json as well: a generated client
    reads a response's first media type only (openapi-python-client#1248)."""
    members = (schema or {}).get("anyOf", [schema])
    if PROBLEM_SCHEMA not in members:
        raise ValueError(f"{answer}: an error answer is a Problem (api.errors.problems)")
    content: dict[str, Any] = {PROBLEM: {"schema": schema}}
    others = [member for member in members if member != PROBLEM_SCHEMA]
    if others:
        content["application/json"] = {
            "schema": others[0] if len(others) == 1 else {"anyOf": others}
        }
    return content

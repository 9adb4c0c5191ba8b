"""A query parameter a route does not declare is refused (422 naming it), as an unknown body
field is: a typo (``?limt=10``, ``?cursr=…``) must not pass silently for the default.

Applied to every route of ``/api/`` and ``/opendsr/`` by :func:`garde.api.create_app`; the
declared names are read once per route from FastAPI's own description of it (its query
parameters and those of its dependencies, such as :class:`garde.api.pagination.Paging`).
"""

from __future__ import annotations

from fastapi import Request
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute

CHECKED = ("/api/", "/opendsr/")


_ATTRIBUTE = "_garde_query_names"


def declared(route: APIRoute) -> frozenset[str]:
    """The query parameter names ``route`` takes (read once per route)."""
    known: frozenset[str] | None = getattr(route, _ATTRIBUTE, None)
    if known is not None:
        return known
    names: set[str] = set()
    pending: list[Dependant] = [route.dependant]
    while pending:
        dependant = pending.pop()
        names.update(parameter.alias for parameter in dependant.query_params)
        pending.extend(dependant.dependencies)
    known = frozenset(names)
    setattr(route, _ATTRIBUTE, known)  # kept on the route: it lives as long as its app
    return known


async def known_query(request: Request) -> None:
    """Refuse the request when it names a query parameter its route does not take.

    ``async`` though it awaits nothing: FastAPI hands a plain function to its thread pool, a hop
    that cost every request ≈ 0.1 ms of CPU (docs/performance.md)."""
    route = request.scope.get("route")
    if not isinstance(route, APIRoute) or not request.url.path.startswith(CHECKED):
        return
    unknown = sorted(set(request.query_params) - declared(route))
    if unknown:
        raise RequestValidationError([{"loc": ("query", name[:64]), "type": "extra_forbidden",
                                       "msg": "this route takes no such query parameter"}
                                      for name in unknown[:20]])

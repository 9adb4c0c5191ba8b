"""The route class of the decisions (:class:`KeyFirstRoute`): the key is judged before the body,
and a well-formed request goes straight to its route.

A decision spent ≈ 0.15 ms of CPU in FastAPI's generic request handling (its content-type parsing,
``json.loads`` then validation, the resolution of each dependency) against ≈ 0.12 ms for the whole
key check, decision, audit entry and answer (docs/performance.md). So a request of the common
shape (no query string, ``Content-Type: application/json``, ``Authorization: Bearer`` and a key of
the right form, a body its model accepts) is handed to the route directly: the body is validated
by pydantic from the JSON bytes and the route called with the same arguments FastAPI would pass.
Every other request (a query string, another content type, a missing key, a body the model
refuses...) takes FastAPI's own path, which words the refusal; both paths give the same answer
to the same request (``tests/test_api_decision_route.py``).

The direct path exists only for a route whose dependencies it knows, all of them: the app's query
check (an empty query string is all it would accept here) and one :class:`AllowInHop` rule with
its bearer scheme. A route, router or app given any other dependency takes FastAPI's path only.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from fastapi.security import HTTPBearer
from pydantic import BaseModel, ValidationError
from starlette.concurrency import run_in_threadpool

from garde.api.auth import AllowInHop, Pending, bearer_token
from garde.api.keys import well_formed
from garde.api.query import known_query

Handler = Callable[[Request], Coroutine[Any, Any, Response]]
Direct = Callable[[Request], Coroutine[Any, Any, Response | None]]


class KeyFirstRoute(APIRoute):
    """A route class for ``async`` routes ruled by :class:`AllowInHop`.

    FastAPI validates the body before such a route runs, so a request whose body is invalid has
    its key checked (in the thread pool) before its 422 is answered: a wrong or missing key is
    still told 401/403 first. A well-formed request takes the direct path (module docstring)."""

    direct: bool = False  # whether well-formed requests take the direct path

    def get_route_handler(self) -> Handler:
        handler = super().get_route_handler()
        dependant = _effective_dependant(self)
        rules = [dependency.call for dependency in dependant.dependencies
                 if isinstance(dependency.call, AllowInHop)]
        direct = _direct_call(self, dependant)
        self.direct = direct is not None

        async def key_first(request: Request) -> Response:
            if direct is not None:
                answer = await direct(request)
                if answer is not None:
                    return answer
            try:
                return await handler(request)
            except RequestValidationError:
                for rule in rules:
                    await run_in_threadpool(rule.check, request, bearer_token(request))
                raise

        return key_first


def _effective_dependant(route: APIRoute) -> Dependant:
    """What FastAPI solves for ``route``: with FastAPI >= 0.16x, the dependant of the inclusion
    being built (the app's and routers' dependencies with the route's), else the route's own
    (older versions copy the including routers' dependencies into the route)."""
    import fastapi.routing

    variable = getattr(fastapi.routing, "_effective_route_context_var", None)
    context = variable.get() if variable is not None else None
    if context is not None and getattr(context, "original_route", None) is route:
        dependant: Dependant = context.dependant
        return dependant
    return route.dependant


def _direct_call(route: APIRoute, dependant: Dependant) -> Direct | None:
    """The direct path of ``route``, or None when it has a dependency or parameter the direct path
    does not reproduce exactly."""
    if (dependant.query_params or dependant.path_params or dependant.header_params or dependant.cookie_params
            or len(dependant.body_params) != 1 or dependant.request_param_name is None
            or not inspect.iscoroutinefunction(route.endpoint)):
        return None
    model = dependant.body_params[0].field_info.annotation
    if not (isinstance(model, type) and issubclass(model, BaseModel)):
        return None
    rules = [dependency for dependency in dependant.dependencies if isinstance(dependency.call, AllowInHop)]
    others = [dependency for dependency in dependant.dependencies
              if dependency.call is not known_query and not isinstance(dependency.call, AllowInHop)]
    if len(rules) != 1 or others or any(dependency.dependencies for dependency in dependant.dependencies
                                        if dependency.call is known_query):
        return None
    rule, caller = rules[0], rules[0].name
    bearer_only = all(isinstance(sub.call, HTTPBearer) and not sub.dependencies for sub in rule.dependencies)
    if caller is None or rule.request_param_name is None or rule.query_params or not bearer_only:
        return None
    assert isinstance(rule.call, AllowInHop)
    endpoint, check = route.endpoint, rule.call
    body_name, request_name = dependant.body_params[0].name, dependant.request_param_name

    async def direct(request: Request) -> Response | None:
        """The route's answer, or None: FastAPI's path then answers the request."""
        scope = request.scope
        if scope.get("query_string") or request.headers.get("content-type") != "application/json":
            return None
        token = bearer_token(request)
        if token is None or not well_formed(token):
            return None
        try:
            body = model.model_validate_json(await request.body())
        except ValidationError:
            return None
        answer: Response = await endpoint(**{body_name: body, request_name: request,
                                             caller: Pending(check, request, token)})
        return answer

    return direct

"""Who may call a route: ``Depends(allow("dpo", "service"))`` in the route's signature.

Every route of ``/api/v1`` declares its roles with :func:`allow`; the authorization-matrix
test reads them from the app's route table, so a route without a rule fails it. ``dpo`` may
do everything and is added to every rule. The key is looked up in the store on every request
(no cache): a revoked key is refused by the next request, in every server process.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from garde.api.keys import ROLES, ApiKey, authenticate
from garde.api.problems import worded
from garde.api.state import store

_bearer = HTTPBearer(auto_error=False, description="An API key: `garde keys create --role ROLE --name NAME`")


@dataclass(frozen=True)
class Allow:
    """The roles a route admits; a dependency returning the caller's key."""

    roles: frozenset[str]

    def __call__(self, request: Request,
                 credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]) -> ApiKey:
        key = None
        if credentials is not None and credentials.scheme.lower() == "bearer":
            with store(request).connect() as conn:
                key = authenticate(conn, credentials.credentials)
        if key is None:
            raise HTTPException(401, worded(request, "unauthenticated"), {"WWW-Authenticate": "Bearer"})
        if key.role not in self.roles:
            raise HTTPException(403, worded(request, "forbidden", role=key.role))
        return key


def allow(*roles: str) -> Callable[..., ApiKey]:
    """The rule of a route: these roles and ``dpo``."""
    unknown = set(roles) - set(ROLES)
    if unknown:
        raise ValueError(f"unknown roles {sorted(unknown)}")
    return Allow(frozenset({"dpo", *roles}))


@dataclass(frozen=True)
class Public:
    """A route anyone may call, with no key, and why (``Depends(public("..."))``): the authorization
    matrix reads it, and requires such a route to answer without a key. Only routes that give away
    nothing about anyone (the cookie banner's script, its configuration, and the recording of a
    visitor's own choice) may be public."""

    reason: str

    def __call__(self) -> None:
        return None


def public(reason: str) -> Public:
    return Public(reason)

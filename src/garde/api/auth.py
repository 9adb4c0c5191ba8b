"""Who may call a route: ``Depends(allow("dpo", "service"))`` in the route's signature.

Every route of ``/api/v1`` declares its roles with :func:`allow`; the authorization-matrix
test reads them from the app's route table, so a route without a rule fails it. ``dpo`` may
do everything and is added to every rule. The key is looked up in the store on every request
(no cache): a revoked key is refused by the next request, in every server process.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

import sqlalchemy as sa
from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi.security.utils import get_authorization_scheme_param

from garde.api.keys import ROLES, ApiKey, authenticate, well_formed
from garde.api.problems import worded
from garde.api.state import store

BEARER = HTTPBearer(auto_error=False, description="An API key: `garde keys create --role ROLE --name NAME`")


@dataclass(frozen=True)
class Allow:
    """The roles a route admits; a dependency returning the caller's key."""

    roles: frozenset[str]

    def __call__(self, request: Request,
                 credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(BEARER)]) -> ApiKey:
        return self.check(request, _token(credentials))

    def check(self, request: Request, token: str | None, connection: sa.Connection | None = None) -> ApiKey:
        """The caller's live key if its role is admitted; else 401 or 403. Reads the store (through
        ``connection`` when given, one in autocommit: it sees every committed revocation)."""
        key = None
        if token is not None and connection is not None:
            key = authenticate(connection, token)
        elif token is not None:
            with store(request).connect() as conn:
                key = authenticate(conn, token)
        if key is None:
            raise _unauthenticated(request)
        if key.role not in self.roles:
            raise HTTPException(403, worded(request, "forbidden", role=key.role))
        return key


@dataclass(frozen=True)
class Pending:
    """A caller whose key is checked by :meth:`key`, in the thread that serves the request."""

    rule: Allow
    request: Request
    token: str

    def key(self, connection: sa.Connection | None = None) -> ApiKey:
        return self.rule.check(self.request, self.token, connection)


@dataclass(frozen=True)
class AllowInHop(Allow):
    """:class:`Allow` for an ``async`` route that checks the key in its one hop to a thread
    (``caller.key()`` first thing there; the decisions' threads pass their own connection): the key
    is still read from the store on every request, but a decision takes one hop instead of two
    (docs/performance.md). A request with no key, or a malformed one, is refused here, before its
    body is read."""

    async def __call__(  # type: ignore[override]
            self, request: Request,
            credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(BEARER)]) -> Pending:
        token = _token(credentials)
        if token is None or not well_formed(token):
            raise _unauthenticated(request)
        return Pending(self, request, token)


def _token(credentials: HTTPAuthorizationCredentials | None) -> str | None:
    if credentials is None or credentials.scheme.lower() != "bearer":
        return None
    return credentials.credentials


def bearer_token(request: Request) -> str | None:
    """The token of ``Authorization: Bearer <token>``, read as :data:`BEARER` reads it; else None."""
    authorization = request.headers.get("Authorization")
    scheme, credentials = get_authorization_scheme_param(authorization)
    if not (authorization and scheme and credentials):
        return None
    return credentials if scheme.lower() == "bearer" else None


def _unauthenticated(request: Request) -> HTTPException:
    return HTTPException(401, worded(request, "unauthenticated"), {"WWW-Authenticate": "Bearer"})


def allow(*roles: str) -> Allow:
    """The rule of a route: these roles and ``dpo``."""
    return Allow(_roles(roles))


def allow_in_hop(*roles: str) -> AllowInHop:
    """The rule of an ``async`` route that calls ``caller.key()`` in its hop to the thread pool."""
    return AllowInHop(_roles(roles))


def _roles(roles: tuple[str, ...]) -> frozenset[str]:
    unknown = set(roles) - set(ROLES)
    if unknown:
        raise ValueError(f"unknown roles {sorted(unknown)}")
    return frozenset({"dpo", *roles})


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

"""Who may call a data subject's route: ``Depends(subject_only)``.

A subject route answers only to a live subject session token (``Authorization: Bearer gs_…``,
from ``/api/v1/me/session/confirm``): a staff API key is refused there (401), as a subject
token is refused on every staff route (:mod:`garde.api.auth` knows only ``gk_`` keys). The
two routes that open a session are public (``garde.api.auth.public``) and rate-limited.
The authorization-matrix test recognises both rules.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from garde.api.problems import worded
from garde.api.state import store
from garde.rights.sessions import SubjectSession, authenticate

_bearer = HTTPBearer(auto_error=False, scheme_name="SubjectSession",
                     description="A data subject's session token: `/api/v1/me/session`, then `/confirm`")


@dataclass(frozen=True)
class SubjectOnly:
    """The route is a data subject's: it returns the caller's live session."""

    def __call__(self, request: Request,
                 credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
                 ) -> SubjectSession:
        session = None
        if credentials is not None and credentials.scheme.lower() == "bearer":
            with store(request).connect() as conn:
                session = authenticate(conn, credentials.credentials)
        if session is None:
            raise HTTPException(401, worded(request, "no_session"), {"WWW-Authenticate": "Bearer"})
        return session


subject_only = SubjectOnly()

"""Errors as RFC 9457 problem details (``application/problem+json``), in the caller's language.

Every bad input is a 4xx naming the field and the reason; nothing else escapes: an unexpected
error is a bare 500 problem, its traceback only in the server's log. Titles and the reasons
FastAPI's validation gives are worded in fr / en / it after ``Accept-Language``; the library's
own messages (``GardeError``) are in English, as the CLI prints them.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from babel import Locale
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException

from garde.api.limits import LISTED_ERRORS
from garde.i18n import preferred_language
from garde.problems import GardeError, InputError
from garde.ratelimit import RateLimited
from garde.store import unreachable
from garde.store.transactions import RETRY_AFTER, conflicted, sqlstate

MEDIA_TYPE = "application/problem+json"
LANGS = ("en", "fr", "it")
log = logging.getLogger("garde.api")

TITLES: dict[int, dict[str, str]] = {
    400: {"en": "Bad request", "fr": "Requête incorrecte", "it": "Richiesta non valida"},
    401: {"en": "Authentication required", "fr": "Authentification requise",
          "it": "Autenticazione richiesta"},
    403: {"en": "Forbidden for this role", "fr": "Interdit pour ce rôle", "it": "Vietato per questo ruolo"},
    404: {"en": "Not found", "fr": "Introuvable", "it": "Non trovato"},
    405: {"en": "Method not allowed", "fr": "Méthode non autorisée", "it": "Metodo non consentito"},
    409: {"en": "Conflict", "fr": "Conflit", "it": "Conflitto"},
    413: {"en": "Request too large", "fr": "Requête trop grande", "it": "Richiesta troppo grande"},
    429: {"en": "Too many requests", "fr": "Trop de requêtes", "it": "Troppe richieste"},
    422: {"en": "Invalid input", "fr": "Saisie invalide", "it": "Dati non validi"},
    500: {"en": "Internal error", "fr": "Erreur interne", "it": "Errore interno"},
    503: {"en": "Service unavailable", "fr": "Service indisponible", "it": "Servizio non disponibile"},
}
DETAILS: dict[str, dict[str, str]] = {
    "unauthenticated": {"en": "send a live API key as `Authorization: Bearer <key>`",
                        "fr": "envoyez une clé d'API valide : `Authorization: Bearer <clé>`",
                        "it": "inviare una chiave API valida: `Authorization: Bearer <chiave>`"},
    "no_session": {"en": "send a live subject session token as `Authorization: Bearer <token>`",
                   "fr": "envoyez un jeton de session valide : `Authorization: Bearer <jeton>`",
                   "it": "inviare un token di sessione valido: `Authorization: Bearer <token>`"},
    "forbidden": {"en": "the role {role} may not use this route",
                  "fr": "le rôle {role} ne peut pas utiliser cette route",
                  "it": "il ruolo {role} non può usare questa route"},
    "invalid": {"en": "{count} fields are invalid", "fr": "{count} champs invalides",
                "it": "{count} campi non validi"},
    "invalid.one": {"en": "{count} field is invalid", "fr": "{count} champ invalide",
                    "it": "{count} campo non valido"},
    "too_large": {"en": "the body is larger than {limit} kB", "fr": "le corps dépasse {limit} ko",
                  "it": "il corpo supera {limit} kB"},
    "too_many": {"en": "the body holds more than {members} members and list items",
                 "fr": "le corps contient plus de {members} membres et éléments de liste",
                 "it": "il corpo contiene più di {members} membri ed elementi di lista"},
    "invalid.cut": {"en": "{count} fields are invalid; the first {listed} are listed",
                    "fr": "{count} champs invalides ; les {listed} premiers sont listés",
                    "it": "{count} campi non validi; sono elencati i primi {listed}"},
    "busy": {"en": "the store met a concurrent change and could not finish this one; nothing was "
                   "written: try again",
             "fr": "le stockage a rencontré une modification concurrente et n'a pas pu terminer "
                   "celle-ci ; rien n'a été écrit : réessayez",
             "it": "l'archivio ha incontrato una modifica concorrente e non ha potuto completare "
                   "questa; nulla è stato scritto: riprovare"},
    "not_text": {"en": "a text holds half of a UTF-16 surrogate pair (\\ud800 – \\udfff alone): not Unicode "
                       "text; nothing was written",
                 "fr": "un texte contient une moitié de paire de substitution UTF-16 (\\ud800 – \\udfff "
                       "seul) : ce n'est pas du texte Unicode ; rien n'a été écrit",
                 "it": "un testo contiene metà di una coppia surrogata UTF-16 (\\ud800 – \\udfff da solo): "
                       "non è testo Unicode; nulla è stato scritto"},
    "nul": {"en": "a text holds a NUL character (\\u0000), which the store cannot keep; nothing was written",
            "fr": "un texte contient un caractère NUL (\\u0000), que le stockage ne peut pas garder ; rien "
                  "n'a été écrit",
            "it": "un testo contiene un carattere NUL (\\u0000), che l'archivio non può conservare; nulla è "
                  "stato scritto"},
    "internal": {"en": "an unexpected error; it is in the server's log",
                 "fr": "une erreur inattendue ; elle figure dans le journal du serveur",
                 "it": "un errore inatteso; è nel registro del server"},
}
# Pydantic's error types, worded; an unlisted type keeps pydantic's English message.
REASONS: dict[str, dict[str, str]] = {
    "missing": {"en": "required", "fr": "obligatoire", "it": "obbligatorio"},
    "extra_forbidden": {"en": "not a field of this request", "fr": "champ inconnu de cette requête",
                        "it": "campo sconosciuto per questa richiesta"},
    "string_type": {"en": "must be a string", "fr": "doit être une chaîne", "it": "deve essere una stringa"},
    "string_too_long": {"en": "too long", "fr": "trop long", "it": "troppo lungo"},
    "string_too_short": {"en": "too short", "fr": "trop court", "it": "troppo corto"},
    "too_long": {"en": "too many items", "fr": "trop d'éléments", "it": "troppi elementi"},
    "too_short": {"en": "too few items", "fr": "pas assez d'éléments", "it": "troppo pochi elementi"},
    "list_type": {"en": "must be a list", "fr": "doit être une liste", "it": "deve essere una lista"},
    "model_attributes_type": {"en": "must be an object", "fr": "doit être un objet",
                              "it": "deve essere un oggetto"},
    "dict_type": {"en": "must be an object", "fr": "doit être un objet", "it": "deve essere un oggetto"},
    "json_invalid": {"en": "not valid JSON", "fr": "JSON invalide", "it": "JSON non valido"},
    "literal_error": {"en": "not one of the allowed values", "fr": "pas une des valeurs permises",
                      "it": "non è uno dei valori ammessi"},
    "bool_parsing": {"en": "must be true or false", "fr": "doit être true ou false",
                     "it": "deve essere true o false"},
    # garde.api.models.Day and Moment: a number is no date (pydantic would read it as a Unix time)
    "iso_date": {"en": "must be an ISO 8601 date, YYYY-MM-DD",
                 "fr": "doit être une date ISO 8601, AAAA-MM-JJ",
                 "it": "deve essere una data ISO 8601, AAAA-MM-GG"},
    "iso_datetime": {"en": "must be an ISO 8601 date and time, YYYY-MM-DDTHH:MM:SS+00:00",
                     "fr": "doit être une date et heure ISO 8601, AAAA-MM-JJTHH:MM:SS+00:00",
                     "it": "deve essere una data e ora ISO 8601, AAAA-MM-GGTHH:MM:SS+00:00"},
}


class FieldError(BaseModel):
    field: str = Field(description="where in the request: body.subject.email, query.lang, ...")
    reason: str


class Problem(BaseModel):
    """RFC 9457 problem details."""

    type: str = Field(default="about:blank", description="a URI naming the kind of problem")
    title: str
    status: int
    detail: str | None = None
    errors: list[FieldError] = Field(default=[], description="one per field at fault")


def language(request: Request) -> str:
    """The one of en / fr / it that ``Accept-Language`` prefers, else English."""
    return preferred_language(request.headers.get("accept-language", ""), LANGS)


def problem(request: Request, status: int, detail: str | None, errors: Sequence[FieldError] = (),
            kind: str = "about:blank", headers: dict[str, str] | None = None) -> JSONResponse:
    lang = language(request)
    title = TITLES.get(status, TITLES[400 if status < 500 else 500])[lang]
    body = Problem(type=kind, title=title, status=status, detail=detail, errors=list(errors))
    return JSONResponse(body.model_dump(), status_code=status, media_type=MEDIA_TYPE,
                        headers={**(headers or {}), "Content-Language": lang})


def worded(request: Request, key: str, **values: Any) -> str:
    return DETAILS[key][language(request)].format(**values)


def _location(loc: Sequence[Any]) -> str:
    return ".".join(str(part) for part in loc)


async def _validation(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    lang = language(request)
    found = exc.errors()
    errors = [FieldError(field=_location(e.get("loc", ())),
                         reason=REASONS.get(e.get("type", ""), {}).get(lang) or str(e.get("msg", "")))
              for e in found[:LISTED_ERRORS]]
    if len(found) > LISTED_ERRORS:  # the body's members are bounded (garde.api.limits), the answer too
        detail = worded(request, "invalid.cut", count=len(found), listed=LISTED_ERRORS)
    else:
        form = "invalid.one" if Locale.parse(lang).plural_form(len(found)) == "one" else "invalid"
        detail = worded(request, form, count=len(found))
    return problem(request, 422, detail, errors, kind="urn:garde:problem:invalid-input")


async def _input(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, InputError)
    errors = [FieldError(field=p.field or p.file, reason=str(p)) for p in exc.problems]
    return problem(request, 422, str(exc.problems[0]) if exc.problems else None, errors,
                   kind="urn:garde:problem:invalid-input")


async def _garde(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, GardeError)
    status = exc.status if 400 <= exc.status < 500 else 400
    if isinstance(exc, RateLimited):
        return problem(request, 429, str(exc), kind="urn:garde:problem:rate-limited",
                       headers={"Retry-After": str(exc.retry_after)})
    field = getattr(exc, "field", None)  # an error about one parameter names it (a cursor)
    detail = exc.public or str(exc)  # never the personal data a message quotes (an identity)
    errors = [FieldError(field=field, reason=detail)] if isinstance(field, str) else []
    return problem(request, status, detail, errors, kind="urn:garde:problem:refused")


async def _http(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    detail = exc.detail if isinstance(exc.detail, str) else None
    return problem(request, exc.status_code, detail, headers=dict(exc.headers or {}))


STORE_UNAVAILABLE = "the store is unavailable (the server's log says why)"


def store_unavailable(request: Request, exc: sa.exc.DBAPIError) -> str:
    """Log why the store cannot be reached; return what the answer says. The driver's words name
    the store's host, port, database and role: they stay in the log, the answer is public."""
    log.error("database unavailable on %s %s: %s", request.method, request.url.path, unreachable(exc))
    return STORE_UNAVAILABLE


async def _unavailable(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, sa.exc.DBAPIError)
    if conflicted(exc):  # a deadlock or a conflict that outlasted the store's attempts: not an outage
        log.warning("%s %s: a concurrent change outlasted the retries (SQLSTATE %s)", request.method,
                    request.url.path, sqlstate(exc))
        return problem(request, 503, worded(request, "busy"), kind="urn:garde:problem:busy",
                       headers={"Retry-After": str(RETRY_AFTER)})
    return problem(request, 503, store_unavailable(request, exc))


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    # A database error's message quotes values (PostgreSQL's DETAIL: the refused row, identities in
    # clear): the app's log record factory (garde.store.logs) keeps its class, first line and frames.
    log.exception("unexpected error on %s %s", request.method, request.url.path, exc_info=exc)
    return problem(request, 500, worded(request, "internal"))


async def _not_text(request: Request, exc: Exception) -> JSONResponse:
    # JSON may escape half a surrogate pair ("\ud800"), which Python's decoder and pydantic take as a
    # str; no database driver can encode it, so the write failed as an unexpected error (500, a
    # traceback in the log) on any route that stores the text. The transaction was rolled back.
    assert isinstance(exc, UnicodeEncodeError)
    if exc.reason != "surrogates not allowed":
        return await _unexpected(request, exc)
    return problem(request, 400, worded(request, "not_text"), kind="urn:garde:problem:refused")


#: psycopg's refusal of a NUL in a text parameter (PostgreSQL's text cannot hold one; SQLite's can).
_NUL_REFUSED = "cannot contain NUL (0x00) bytes"


async def _data(request: Request, exc: Exception) -> JSONResponse:
    # A NUL in a staff key's free text (an out-of-band check, a reason) reached PostgreSQL as an
    # unexpected error (500, a traceback in the log); the transaction was rolled back.
    assert isinstance(exc, sa.exc.DataError)
    if _NUL_REFUSED in str(exc.orig):
        return problem(request, 400, worded(request, "nul"), kind="urn:garde:problem:refused")
    return await _unexpected(request, exc)


def install(app: FastAPI) -> None:
    """Map every error to a problem: validation, input, domain, HTTP, then anything else; and
    document those answers on every operation of the app's OpenAPI (:func:`document`)."""
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(InputError, _input)
    app.add_exception_handler(GardeError, _garde)
    app.add_exception_handler(HTTPException, _http)
    app.add_exception_handler(sa.exc.OperationalError, _unavailable)
    app.add_exception_handler(UnicodeEncodeError, _not_text)
    app.add_exception_handler(sa.exc.DataError, _data)
    # Any other database error is answered here and not raised again (a handler of Exception is:
    # the server would log the driver's whole message, values included, with its traceback).
    app.add_exception_handler(sa.exc.SQLAlchemyError, _unexpected)
    app.add_exception_handler(Exception, _unexpected)
    document(app)


# What each error answer means, as the OpenAPI says it.
MEANINGS = {
    400: "the body is not readable JSON, or garde refuses the input (the detail says why)",
    401: "no live API key (missing, malformed, unknown or revoked)",
    403: "the key's role may not use this route",
    404: "a thing the request names (register, activity, subject, request...) does not exist",
    413: "the body is larger than the route accepts (bytes, or JSON members and list items: docs/api.md)",
    422: "invalid input: each field at fault in `errors`",
    503: "the store is unreachable, or met a concurrent change it could not finish (then with Retry-After)",
}
_REF = "#/components/schemas/"


def _answers(operation: dict[str, Any]) -> set[int]:
    """The error statuses an operation can answer: every route taking input or a key can be
    refused (400), name a missing thing (404), fail validation (422) or lose its store (503); any
    route refuses a body larger than it takes (413: a ``GET`` takes 1 kB)."""
    secured, body = bool(operation.get("security")), "requestBody" in operation
    if not (secured or body or operation.get("parameters")):
        return {413}  # a body sent anyway, past the little every route takes (garde.api.limits)
    return {400, 404, 413, 422, 503} | ({401, 403} if secured else set())


def _is_problem(answer: dict[str, Any]) -> bool:
    """An answer FastAPI or a router wrote for an error: the Problem schema, FastAPI's own
    validation model, or no body at all; a route's own model (``/readyz``'s 503) is kept."""
    refs = {media.get("schema", {}).get("$ref") for media in answer.get("content", {}).values()}
    return refs <= {f"{_REF}Problem", f"{_REF}HTTPValidationError", None}


def _described(status: int, own: str | None) -> str:
    """A router's own words for an error, else what it means in general."""
    if own and own not in {TITLES.get(status, {}).get("en"), "Validation Error"}:
        return own
    if status in MEANINGS:
        return f"{TITLES[status]['en']}: {MEANINGS[status]}"
    return own or TITLES.get(status, TITLES[400])["en"]


def document(app: FastAPI) -> None:
    """Every operation of the OpenAPI documents the errors it can answer, each only as
    ``application/problem+json`` with the :class:`Problem` schema, so a router added later gets
    them without declaring any (and a client generated from the OpenAPI reads them right). An
    error a router declares itself (a 429, a 404 in its own words) is documented the same way."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        spec = build()
        schemas = spec.setdefault("components", {}).setdefault("schemas", {})
        problem = Problem.model_json_schema(ref_template=_REF + "{model}")
        schemas.update(problem.pop("$defs", {}))
        schemas["Problem"] = problem
        problem_ref = {"$ref": f"{_REF}Problem"}
        for operations in spec.get("paths", {}).values():
            for operation in operations.values():
                answers = operation.setdefault("responses", {})
                declared = {int(code) for code in answers if code.isdigit() and int(code) >= 400}
                for status in sorted(_answers(operation) | declared):
                    answer = answers.get(str(status), {})
                    if _is_problem(answer):
                        answers[str(status)] = {"description": _described(status, answer.get("description")),
                                                "content": {MEDIA_TYPE: {"schema": problem_ref}}}
        if "HTTPValidationError" not in str(spec.get("paths")):
            schemas.pop("HTTPValidationError", None)
            schemas.pop("ValidationError", None)
        return spec

    app.openapi = openapi  # type: ignore[method-assign]


# The error answers every route documents in the OpenAPI.
def responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    return {status: {"model": Problem, "content": {MEDIA_TYPE: {}},
                     "description": TITLES[status]["en"]} for status in statuses}

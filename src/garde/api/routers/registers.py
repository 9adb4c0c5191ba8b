"""``/registers``: the deployment's registers, each as ``register show`` gives it, its findings
and its published documents (the Art. 30 register, the notices).

A register's id is its file name without ``.yaml``; server paths are never shown. A document is
named from the register's fixed list (``garde.publish.register_documents``): no path a caller
sends reaches the file system.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import Response
from pydantic import BaseModel, Field

from garde.api.auth import allow
from garde.api.keys import ApiKey
from garde.api.problems import responses
from garde.api.state import service
from garde.lint import lint
from garde.problems import NotFound, closest
from garde.publish import MEDIA_TYPES, register_document, register_documents, register_files
from garde.register import load_register, read_register
from garde.web.headers import ANSWER_FILE_HEADERS, content_disposition

router = APIRouter(prefix="/registers", tags=["registers"], responses=responses(401, 403, 404, 422))
Caller = Annotated[ApiKey, Depends(allow("auditor"))]


class RegisterSummary(BaseModel):
    id: str = Field(description="the register file's name without its extension")
    controller: str
    activities: int


class FindingOut(BaseModel):
    code: str
    severity: str
    rule: str
    activity: str | None
    message: str
    reference: str
    url: str | None
    file: str = Field(description="the register file's name")
    line: int | None


def _files(request: Request) -> dict[str, Path]:
    return {path.stem: path for path in register_files([service(request).settings.registers])}


def _file(request: Request, register_id: str) -> Path:
    files = _files(request)
    if register_id not in files:
        hint = closest(register_id, files)
        raise NotFound(f"no register {register_id!r}" + (f" (did you mean {hint!r}?)" if hint else ""))
    return files[register_id]


@router.get("", response_model=list[RegisterSummary])
def list_registers(request: Request, key: Caller) -> list[RegisterSummary]:
    """The registers this deployment applies."""
    summaries = []
    for register_id, path in _files(request).items():
        register = load_register(path)
        summaries.append(RegisterSummary(id=register_id, controller=register.controller.name,
                                         activities=len(register.activities)))
    return summaries


@router.get("/{register_id}", response_model=dict[str, Any])
def show(register_id: str, request: Request, key: Caller) -> dict[str, Any]:
    """One register, normalised, as `garde register show --format json` prints it."""
    data: dict[str, Any] = load_register(_file(request, register_id)).to_data()
    return data


@router.get("/{register_id}/findings", response_model=list[FindingOut])
def findings(register_id: str, request: Request, key: Caller,
             lang: Annotated[Literal["en", "fr"], Query(description="language of the messages")] = "en",
             ) -> list[FindingOut]:
    """The lint findings of one register (codes, severity, legal reference)."""
    found = lint(read_register(_file(request, register_id), check_terms=False), lang=lang)
    return [FindingOut.model_validate({**f.to_data(), "file": Path(f.file).name}) for f in found]


class DocumentOut(BaseModel):
    name: str = Field(description="`GET /registers/{id}/documents/{name}` gives it")
    kind: Literal["register", "notice"] = Field(description="the Art. 30 register or the privacy notice")
    lang: str
    format: str
    media_type: str


@router.get("/{register_id}/documents", response_model=list[DocumentOut])
def documents(register_id: str, request: Request, key: Caller) -> list[DocumentOut]:
    """The documents this register publishes: its Art. 30 register (XLSX, HTML, CSV, JSON,
    Markdown) in its language, its notice in each language it publishes in (`publishes_in`)."""
    found = register_documents(load_register(_file(request, register_id)))
    return [DocumentOut(name=d.name, kind="notice" if d.kind == "notice" else "register", lang=d.lang,
                        format=d.format, media_type=d.media_type) for d in found]


@router.get("/{register_id}/documents/{name}", response_class=Response,
            responses={200: {"description": "the document", "content": {
                media_type.split(";")[0]: {} for media_type in MEDIA_TYPES.values()}}})
def document(register_id: str, request: Request, key: Caller,
             name: Annotated[str, PathParam(max_length=64, description="a name from the list")]) -> Response:
    """One published document, generated from the register as `garde publish` writes it (a notice
    with gaps is the draft, with its banner)."""
    found, content = register_document(load_register(_file(request, register_id)), name)
    # Inline, but sandboxed as answer files are: an HTML document never runs in garde's origin.
    disposition = content_disposition("inline", f"{register_id}-{found.name}")
    return Response(content, media_type=found.media_type,
                    headers={**ANSWER_FILE_HEADERS, "Content-Disposition": disposition})

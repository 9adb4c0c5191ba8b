"""``/dpo/registers``: the deployment's registers, their lint findings, and each register's text
with numbered lines that the findings link to (``…/source#L12``)."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import Response

from garde.api.state import service
from garde.lint.overview import register_findings, source_lines
from garde.publish import register_files
from garde.web.dpo.auth import LANGS, DpoPage
from garde.web.pages import render

router = APIRouter()


def _files(request: Request) -> dict[str, Path]:
    return {path.stem: path for path in register_files([service(request).settings.registers])}


def not_found(request: Request, dpo: DpoPage) -> Response:
    return render(request, "dpo/not_found.html.j2", dpo.lang, status=404, langs=LANGS, dpo=dpo)


@router.get("/dpo/registers", include_in_schema=False)
def registers(request: Request, dpo: DpoPage) -> Response:
    found = [register_findings(path, dpo.lang) for path in _files(request).values()]
    return render(request, "dpo/registers.html.j2", dpo.lang, langs=LANGS, dpo=dpo, registers=found)


@router.get("/dpo/registers/{register_id}", include_in_schema=False)
def register(register_id: str, request: Request, dpo: DpoPage) -> Response:
    path = _files(request).get(register_id)
    if path is None:
        return not_found(request, dpo)
    return render(request, "dpo/register.html.j2", dpo.lang, langs=LANGS, dpo=dpo,
                  register=register_findings(path, dpo.lang))


@router.get("/dpo/registers/{register_id}/source", include_in_schema=False)
def source(register_id: str, request: Request, dpo: DpoPage) -> Response:
    path = _files(request).get(register_id)
    if path is None:
        return not_found(request, dpo)
    found = register_findings(path, dpo.lang)
    marked: dict[int, list[str]] = {}
    for finding in found.findings:
        if finding.line:
            marked.setdefault(finding.line, []).append(f"{finding.code} {finding.message}")
    return render(request, "dpo/source.html.j2", dpo.lang, langs=LANGS, dpo=dpo, register=found,
                  file=path.name, lines=source_lines(path), marked=marked)

"""``/dpo/requests``: the queue of data-subject requests, one request's page, its answer files,
and the forms that run a verified request, or extend or reject it (with the reason the subject is
told); the request's forwardings to the controllers whose data it found (held as a processor), the
form that records one done and the one that erases that data (or, for a restriction request,
restricts its processing, or lifts that restriction) on the controller's instruction."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse, RedirectResponse, Response

from garde import rights
from garde.api.state import service, store
from garde.jobs.requests import run_request
from garde.problems import GardeError, NotFound
from garde.rights import forwarding
from garde.rights.deployment import Deployment, configured_registers
from garde.rights.instructed_erasure import instruct_erasure
from garde.rights.instructed_restriction import instruct_restriction, lift_restriction
from garde.rights.queue import answer_file, answer_files, extendable, queue, standing
from garde.store.transactions import retried
from garde.subjects import now
from garde.web.dpo.auth import LANGS, DpoPage, checked_form
from garde.web.dpo.registers import not_found
from garde.web.pages import render

router = APIRouter()
MAX_ID = 64


@router.get("/dpo/requests", include_in_schema=False)
def requests_queue(request: Request, dpo: DpoPage, closed: bool = False) -> Response:
    with store(request).connect() as conn:
        entries = queue(conn, closed=closed)
        to_forward = forwarding.pending(conn)  # answered requests too: their forwardings wait
    return render(request, "dpo/requests.html.j2", dpo.lang, langs=LANGS, dpo=dpo, entries=entries,
                  closed=closed, to_forward=to_forward)


def _page(request: Request, dpo: DpoPage, request_id: str, *, error: str | None = None,
          status: int = 200) -> Response:
    try:
        with store(request).connect() as conn:
            found = rights.get_request(conn, request_id[:MAX_ID])
            forwardings = forwarding.listed(conn, found.id)
    except GardeError:
        return not_found(request, dpo)
    days_left, standing_ = standing(found, now().date())
    files = answer_files(found, service(request).settings.results)
    if forwardings:  # the controllers' contacts, from the registers of the data map
        forwardings = forwarding.with_contacts(configured_registers(service(request).settings), forwardings)
    return render(request, "dpo/request.html.j2", dpo.lang, status=status, langs=LANGS, dpo=dpo, r=found,
                  days_left=days_left, standing=standing_, files=sorted(files), error=error,
                  extendable=extendable(found), runnable=found.is_runnable, forwardings=forwardings)


@router.get("/dpo/requests/{request_id}", include_in_schema=False)
def request_page(request_id: str, request: Request, dpo: DpoPage) -> Response:
    return _page(request, dpo, request_id)


@router.get("/dpo/requests/{request_id}/files/{name}", include_in_schema=False)
def request_file(request_id: str, name: str, request: Request, dpo: DpoPage) -> Response:
    try:
        path = retried(store(request), lambda conn: answer_file(
            conn, request_id[:MAX_ID], service(request).settings.results, name[:MAX_ID], actor=dpo.actor),
            what=f"request {request_id[:MAX_ID]}: a file read")
    except (GardeError, NotFound):
        return not_found(request, dpo)
    return FileResponse(path, filename=path.name, headers={"Cache-Control": "no-store"})


def _change(request: Request, dpo: DpoPage, request_id: str, action: str, reason: str) -> Response:
    settings = service(request).settings
    change = rights.extend if action == "extend" else rights.reject
    try:
        mailer, registers = rights.configured_mailer(settings), configured_registers(settings)
        changed = retried(store(request), lambda conn: change(conn, request_id[:MAX_ID], reason,
                                                              actor=dpo.actor, mailer=mailer,
                                                              registers=registers),
                          what=f"request {request_id[:MAX_ID]}: {action}")
    except GardeError as error:
        return _page(request, dpo, request_id, error=str(error), status=400)
    return RedirectResponse(f"/dpo/requests/{changed.id}", status_code=303)


@router.post("/dpo/requests/{request_id}/extend", include_in_schema=False)
def extend(request_id: str, request: Request, dpo: DpoPage,
           form: dict[str, str] = Depends(checked_form)) -> Response:
    return _change(request, dpo, request_id, "extend", form.get("reason", ""))


@router.post("/dpo/requests/{request_id}/reject", include_in_schema=False)
def reject(request_id: str, request: Request, dpo: DpoPage,
           form: dict[str, str] = Depends(checked_form)) -> Response:
    return _change(request, dpo, request_id, "reject", form.get("reason", ""))


@router.post("/dpo/requests/{request_id}/forward", include_in_schema=False)
def forward(request_id: str, request: Request, dpo: DpoPage,
            form: dict[str, str] = Depends(checked_form)) -> Response:
    """Record that the request was passed on to a controller whose data it found (GDPR Art. 28(3)(e)),
    as ``POST /api/v1/requests/{id}/forward`` does, under the DPO's name."""
    try:
        with store(request).connect() as conn:
            full = rights.get_request(conn, request_id[:MAX_ID]).id
        forwarding.mark_forwarded(store(request), full, form.get("controller", "")[:256], actor=dpo.actor,
                                  note=form.get("note", "")[:2000] or None)
    except GardeError as error:
        return _page(request, dpo, request_id, error=str(error), status=400)
    return RedirectResponse(f"/dpo/requests/{full}", status_code=303)


@router.post("/dpo/requests/{request_id}/instructed-erasure", include_in_schema=False)
def instructed_erasure(request_id: str, request: Request, dpo: DpoPage,
                       form: dict[str, str] = Depends(checked_form)) -> Response:
    """Erase the data a forwarded request found that is held for a controller, on that controller's
    instruction (GDPR Art. 28(3)(a), 29), as ``POST /api/v1/requests/{id}/instructed-erasure`` does,
    under the DPO's name: its columns only, legal holds honoured; run again, nothing more changes."""
    settings = service(request).settings
    try:
        with store(request).connect() as conn:
            full = rights.get_request(conn, request_id[:MAX_ID]).id
        with Deployment.open(settings=settings) as deployment:
            instruct_erasure(store(request), deployment, full, form.get("controller", "")[:256],
                             instruction=form.get("instruction", "")[:2000],
                             instructed_by=form.get("instructed_by", "")[:256], actor=dpo.actor)
    except GardeError as error:
        return _page(request, dpo, request_id, error=str(error), status=400)
    return RedirectResponse(f"/dpo/requests/{full}", status_code=303)


@router.post("/dpo/requests/{request_id}/instructed-restriction", include_in_schema=False)
def instructed_restriction(request_id: str, request: Request, dpo: DpoPage,
                           form: dict[str, str] = Depends(checked_form)) -> Response:
    """Restrict what the organisation does as a processor for a controller with a forwarded
    restriction request's subject, on that controller's instruction (GDPR Art. 18, 28(3)(a)), as
    ``POST /api/v1/requests/{id}/instructed-restriction`` does, under the DPO's name."""
    return _on_instruction(request, dpo, request_id, form, instruct_restriction)


@router.post("/dpo/requests/{request_id}/restriction-lifted", include_in_schema=False)
def restriction_lifted(request_id: str, request: Request, dpo: DpoPage,
                       form: dict[str, str] = Depends(checked_form)) -> Response:
    """Lift a controller's restriction on its instruction (GDPR Art. 18(3)), as ``POST
    /api/v1/requests/{id}/restriction-lifted`` does, under the DPO's name."""
    return _on_instruction(request, dpo, request_id, form, lift_restriction)


def _on_instruction(request: Request, dpo: DpoPage, request_id: str, form: dict[str, str],
                    act: Callable[..., dict[str, Any]]) -> Response:
    """Record a controller's instruction about its restriction (``act``: instruct or lift) from the
    form, under the DPO's name; the request's page again, or with the error."""
    try:
        with store(request).connect() as conn:
            full = rights.get_request(conn, request_id[:MAX_ID]).id
        act(store(request), list(service(request).model.registers), full, form.get("controller", "")[:256],
            instruction=form.get("instruction", "")[:2000], instructed_by=form.get("instructed_by", "")[:256],
            actor=dpo.actor)
    except GardeError as error:
        return _page(request, dpo, request_id, error=str(error), status=400)
    return RedirectResponse(f"/dpo/requests/{full}", status_code=303)


@router.post("/dpo/requests/{request_id}/run", include_in_schema=False)
def run(request_id: str, request: Request, dpo: DpoPage,
        form: dict[str, str] = Depends(checked_form)) -> Response:
    """Run a verified request, as ``POST /api/v1/requests/{id}/run`` does, under the DPO's name."""
    settings = service(request).settings
    try:  # queued for the workers on PostgreSQL (the page shows it in progress), run now on SQLite
        ran = run_request(store(request), request_id[:MAX_ID], actor=dpo.actor, settings=settings,
                          mailer=rights.configured_mailer(settings)).result
    except GardeError as error:
        return _page(request, dpo, request_id, error=str(error), status=409)
    return RedirectResponse(f"/dpo/requests/{ran.id}", status_code=303)

"""The dashboard's home, and its pages on retention, consents and the audit log."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from garde import i18n
from garde.api.state import service, store
from garde.audit.verification import verify_store
from garde.consent.figures import consent_figures
from garde.legal_holds import active_holds
from garde.problems import GardeError
from garde.retention import runs
from garde.retention.outlook import forecast
from garde.rights.queue import queue
from garde.web.charts import bar_chart
from garde.web.dpo.auth import LANGS, DpoPage
from garde.web.pages import render

router = APIRouter()
HORIZON = 90


@router.get("/dpo/", include_in_schema=False)
def home(request: Request, dpo: DpoPage) -> Response:
    with store(request).connect() as conn:
        entries = queue(conn)
    counts = {standing: sum(1 for e in entries if e.standing == standing)
              for standing in ("overdue", "this_week", "later")}
    return render(request, "dpo/home.html.j2", dpo.lang, langs=LANGS, dpo=dpo, counts=counts,
                  open=len(entries))


@router.get("/dpo/retention", include_in_schema=False)
def retention(request: Request, dpo: DpoPage) -> Response:
    held = service(request)
    error, outlook, chart = None, None, None
    try:
        outlook = forecast(held.engine, held.settings.datasets, days=HORIZON)
    except GardeError as problem:
        error = str(problem)
    if outlook is not None and outlook.by_operation:
        names = {op: i18n.translate(dpo.lang, word) for op, word in
                 (("delete", "delete"), ("mask", "anonymise"), ("archive", "archive"))}
        chart = bar_chart(i18n.translate(dpo.lang, "Rows becoming due, week by week"),
                          [week.isoformat() for week in outlook.weeks],
                          {names[op]: counts for op, counts in outlook.by_operation.items()})
    with held.engine.connect() as conn:
        holds = active_holds(conn)
    return render(request, "dpo/retention.html.j2", dpo.lang, langs=LANGS, dpo=dpo, outlook=outlook,
                  error=error, chart=chart, runs=runs(held.engine), holds=holds, horizon=HORIZON)


@router.get("/dpo/consents", include_in_schema=False)
def consents(request: Request, dpo: DpoPage) -> Response:
    with store(request).connect() as conn:
        figures = consent_figures(conn)
    given = {f"{row.activity} · {row.channel or '*'}": [month["given"] for month in row.by_month]
             for row in figures.rows}
    chart = bar_chart(i18n.translate(dpo.lang, "Consents given, month by month"), figures.months, given,
                      stacked=True) if figures.rows else None
    return render(request, "dpo/consents.html.j2", dpo.lang, langs=LANGS, dpo=dpo, figures=figures,
                  chart=chart)


@router.get("/dpo/audit", include_in_schema=False)
def audit(request: Request, dpo: DpoPage) -> Response:
    held = service(request)
    held.audit.flush()  # the decisions buffered so far are part of what is verified
    return render(request, "dpo/audit.html.j2", dpo.lang, langs=LANGS, dpo=dpo,
                  verification=verify_store(held.engine))

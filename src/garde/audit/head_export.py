"""The audit log's head, exported outside the store every day: a rewrite of the whole chain shows.

Someone who can write to the database can rewrite the whole log and recompute every hash; only a
copy of the head kept where they cannot write tells the rewritten log from the real one. The
export verifies the log (against the file's earlier heads), then appends its head, a
:class:`~garde.audit.checkpoints.Checkpoint` line (sequence number, hash, time, and the audit
key's MAC when there is one), to an append-only file created owner-only (``--to FILE`` or the
``audit_checkpoint_file`` setting), and/or POSTs the same line as JSON to an outside address
(``audit_head_url``: HTTPS, or http to this machine only), with a timeout. ``garde audit verify
--against FILE`` then checks that the store's chain still holds every exported head.

Idempotent: the head exported is claimed for the day and the destinations in ``scheduled_runs``
(:mod:`garde.store.scheduled_runs`); a second run the same day with the same head exports nothing
and does not verify the log again (it reads the head, two indexed reads), a run after the head
moved exports the new one. A file that already ends with this head gets no
second line (a run whose POST failed, run again). The export reaches no personal data (a hash and
counts), so it is not itself an audit entry: one would move the head it just exported.
"""

from __future__ import annotations

import hashlib
import http.client
import ipaddress
import threading
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa

from garde.audit.checkpoints import (
    Checkpoint,
    append_checkpoint,
    current_head,
    make_checkpoint,
    read_checkpoints,
)
from garde.audit.keys import configured_keyring
from garde.audit.verification import Verification, verify
from garde.problems import GardeError
from garde.settings import Settings, get_settings
from garde.store.scheduled_runs import claim, claimed
from garde.subjects import now

WORK = "audit.export_head"


@dataclass(frozen=True)
class HeadExport:
    """What :func:`export_head` did: ``checkpoint`` is the head exported (None: the log does not
    verify, nothing exported); ``written`` and ``posted`` say where it went this run."""

    day: date
    verification: Verification | None  # None: the head was exported today already, not verified again
    checkpoint: Checkpoint | None
    file: Path | None
    url: str | None  # as given, without any user name, password or query
    written: bool = False
    posted: bool = False
    why_not: str | None = None  # "already exported today", "the log does not verify"
    seq: int | None = None  # the head considered (also when nothing was exported)

    def to_data(self) -> dict[str, Any]:
        head = None if self.checkpoint is None else {
            "at": self.checkpoint.at, "entries": self.checkpoint.entries, "seq": self.checkpoint.seq,
            "hash": self.checkpoint.hash, "key": self.checkpoint.key}
        ok = None if self.verification is None else self.verification.ok
        return {"day": self.day.isoformat(), "ok": ok, "seq": self.seq, "head": head,
                "file": None if self.file is None else str(self.file), "url": self.url,
                "written": self.written, "posted": self.posted, "why_not": self.why_not}


def export_head(store: sa.Engine, settings: Settings | None = None, *, today: date | None = None,
                to: Path | None = None, url: str | None = None) -> HeadExport:
    """Verify the log, then append its head to ``to`` (default: the ``audit_checkpoint_file``
    setting) and POST it to ``url`` (default: the ``audit_head_url`` setting); once a day per head
    and destinations. GardeError when there is nowhere to export to, or a destination fails (the
    claim is then rolled back: the next run exports again)."""
    settings = settings or get_settings()
    today = today or now().date()
    path = to or settings.audit_checkpoint_file
    address = url or settings.audit_head_url
    if path is None and address is None:
        raise GardeError("where to? give --to FILE, or set audit_checkpoint_file "
                         "(GARDE_AUDIT_CHECKPOINT_FILE) or audit_head_url (GARDE_AUDIT_HEAD_URL)")
    shown = _check_url(address) if address is not None else None
    with store.connect() as conn:  # two indexed reads: a head exported today is not verified again
        try:
            seq, digest = current_head(conn)
        except GardeError:  # the head disagrees with the log: the verification below says how
            seq, digest = -1, ""
        if seq >= 0 and claimed(conn, WORK, today, _state(seq, digest, path, shown)):
            return HeadExport(today, None, None, path, shown, why_not="already exported today", seq=seq)
    earlier = read_checkpoints(path) if path is not None and path.exists() else []
    keyring = configured_keyring()
    with store.connect() as conn:  # its own connection: verify streams its reads on it
        result = verify(conn, keys=keyring, checkpoints=earlier)
    if not result.ok:
        return HeadExport(today, result, None, path, shown, why_not="the log does not verify")
    with store.begin() as conn:  # the head verified stays a prefix of the log, whatever is appended since
        checkpoint = make_checkpoint(result.checked, result.checked, result.head_hash, keyring)
        summary = {"seq": checkpoint.seq, "hash": checkpoint.hash, "file": str(path) if path else None,
                   "url": shown}
        state = _state(result.checked, result.head_hash, path, shown)
        if not claim(conn, WORK, today, state, summary):  # a run at the same time exported it
            return HeadExport(today, result, None, path, shown, why_not="already exported today",
                              seq=result.checked)
        written = path is not None and not _ends_with(earlier, checkpoint)
        if path is not None and written:
            append_checkpoint(path, checkpoint)
        if address is not None:
            post_head(address, checkpoint, settings.audit_head_timeout)
    return HeadExport(today, result, checkpoint, path, shown, written, address is not None,
                      seq=result.checked)


def _state(seq: int, digest: str, path: Path | None, url: str | None) -> str:
    """What a day's export is about: the head, and where it goes."""
    return hashlib.sha256(f"{seq}:{digest}:{path}:{url}".encode()).hexdigest()


def _ends_with(checkpoints: list[Checkpoint], head: Checkpoint) -> bool:
    return bool(checkpoints) and (checkpoints[-1].seq, checkpoints[-1].hash) == (head.seq, head.hash)


def _check_url(url: str) -> str:
    """``url`` without user, password, query or fragment (for reports); GardeError unless it is
    https, or http to this machine (a collector on localhost)."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        parts.port  # noqa: B018 (raises ValueError on a bad port)
    except ValueError:  # never the address itself: it may hold a password or a token
        raise GardeError("audit_head_url is not an address (a bad host or port)") from None
    if any(char.isspace() or not char.isprintable() for char in url):  # would smuggle a header in
        raise GardeError("audit_head_url: spaces and control characters are not allowed in the address "
                         "(escape them: %20)")
    if parts.username is not None or parts.password is not None:  # urllib would not send them
        raise GardeError("audit_head_url: a user or password in the address is not supported (it would "
                         "not be sent); give the collector's token in the path or query")
    if parts.scheme not in ("https", "http") or not host:
        raise GardeError(f"audit_head_url: {parts.scheme or 'no scheme'}://{host}: expected https://host/path")
    if parts.scheme == "http" and not _loopback(host):
        raise GardeError(f"audit_head_url: http://{host} would send the head in clear over the network, "
                         "where it can be changed on the way: use https (http only to this machine)")
    netloc = host if ":" not in host else f"[{host}]"
    return f"{parts.scheme}://{netloc}{f':{parts.port}' if parts.port else ''}{parts.path}"


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect is an answer like any other but 2xx: refused, never followed (it could lead to http)."""

    def redirect_request(self, *_: Any, **__: Any) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirect)


def post_head(url: str, checkpoint: Checkpoint, timeout: float) -> None:
    """POST the head as one JSON object (the checkpoint file's line); any answer but 2xx, a
    timeout or a refused connection is a GardeError naming the address (never its query).

    ``timeout`` bounds the whole exchange, not only each read: a collector answering a byte at a
    time would otherwise hold the export as long as it liked (the request is left to its thread)."""
    shown = _check_url(url)
    request = urllib.request.Request(url, data=checkpoint.line().encode(), method="POST",
                                     headers={"Content-Type": "application/json",
                                              "User-Agent": "garde-audit-head"})
    failed: list[Exception] = []
    sent: list[bool] = []

    def send() -> None:
        try:
            _send(request, shown, timeout)
        except Exception as exc:  # raised again below, in the caller's thread
            failed.append(exc)
        else:
            sent.append(True)

    worker = threading.Thread(target=send, name="garde-audit-head", daemon=True)
    worker.start()
    worker.join(timeout)
    if worker.is_alive():
        raise GardeError(_too_slow(shown, timeout))
    if failed:
        raise failed[0]
    assert sent  # the worker ended without an answer or an error: not possible


def _too_slow(shown: str, timeout: float) -> str:
    return f"audit head not sent to {shown}: no answer within {timeout:g} s (audit_head_timeout)"


def _send(request: urllib.request.Request, shown: str, timeout: float) -> None:
    try:
        with _OPENER.open(request, timeout=timeout) as answer:
            status = answer.status
    except urllib.error.HTTPError as exc:
        exc.close()  # it holds the answer's connection
        # the collector's own words: printable only (no terminal escapes), and short
        words = "".join(char for char in str(exc.reason)[:100] if char.isprintable())
        raise GardeError(f"audit head not accepted by {shown}: HTTP {exc.code} {words}") from None
    except TimeoutError:
        raise GardeError(_too_slow(shown, timeout)) from None
    except http.client.HTTPException as exc:  # not an HTTP answer (a status line garbled, too long)
        raise GardeError(f"audit head not sent to {shown}: the answer is not HTTP "
                         f"({type(exc).__name__})") from None
    except ValueError:  # http.client refusing the address (its message would show it)
        raise GardeError(f"audit head not sent to {shown}: the address is not valid") from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        if isinstance(reason, TimeoutError):
            raise GardeError(_too_slow(shown, timeout)) from None
        raise GardeError(f"audit head not sent to {shown}: {reason}") from None
    if not 200 <= status < 300:
        raise GardeError(f"audit head not accepted by {shown}: HTTP {status}")

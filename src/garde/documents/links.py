"""Links in published documents: only to web pages and mail addresses.

A register's URL fields are free text; a document turns them into links only
when they are ``http``, ``https`` or ``mailto`` targets a browser will open as
such. Anything else (``javascript:``, ``data:``, ``vbscript:``, a relative
path, a URL with blanks or quotes a browser would strip or split on) is shown
as plain text, never as a link.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

WEB_SCHEMES = frozenset({"http", "https"})
# No blanks, controls, quotes or angle brackets anywhere: browsers drop tabs and line breaks
# inside a URL ("java\tscript:"), and a quote or bracket would end the attribute or the autolink.
_PLAIN = re.compile(r"[^\x00-\x20\x7f\"'<>`\\]+")
_ADDRESS = re.compile(r"[^@:/?#]+@[^@:/?#]+\.[^@:/?#]+")


def safe_href(target: str) -> str | None:
    """``target`` when it is an http(s) URL with a host or a ``mailto:`` address; else ``None``."""
    if not _PLAIN.fullmatch(target):
        return None
    parts = urlsplit(target)
    scheme = parts.scheme.lower()
    if scheme in WEB_SCHEMES:
        return target if parts.netloc else None
    if scheme == "mailto":
        # An address alone: `?bcc=`, `?subject=` or `#` would add recipients or text to the mail.
        return target if _ADDRESS.fullmatch(parts.path) and not parts.query and not parts.fragment else None
    return None


def mail_href(address: str) -> str | None:
    """A ``mailto:`` link to ``address`` when it is one; else ``None``."""
    return safe_href(f"mailto:{address}")

"""docs/deploy.md's settings file is read alike by the shell (`garde-as`) and by systemd's units."""

import re

from .conftest import ROOT

DEPLOY = ROOT / "docs" / "deploy.md"


def test_the_settings_file_has_no_comment_after_a_value() -> None:
    """systemd's ``EnvironmentFile=`` keeps a ``# …`` after a value as part of it (only a line of its own
    is a comment), where `garde-as`'s shell drops it: the units' identifier key would not be the
    wrapper's, a store written by one would refuse the other, and the proxies' JSON list would not
    parse."""
    text = DEPLOY.read_text(encoding="utf-8")
    block = re.search(r"^`/etc/garde/garde\.env`.*?```sh\n(.*?)^```", text, re.M | re.S)
    assert block, "docs/deploy.md: the settings file's block was not found"
    settings = [line for line in block[1].splitlines() if line.strip() and not line.startswith("#")]
    assert len(settings) >= 10
    assert all(re.fullmatch(r"GARDE_[A-Z_]+=\S.*", line) for line in settings), settings
    assert [line for line in settings if re.search(r"\s#", line)] == []

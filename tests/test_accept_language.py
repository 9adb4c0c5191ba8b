"""``Accept-Language``, read once for the API's problems and the web pages
(:func:`garde.i18n.preferred_language`): whatever the header, a supported language and no error;
the weights honoured, a region or script passed over, only the header's start read."""

from __future__ import annotations

from collections.abc import Sequence

from hypothesis import given
from hypothesis import strategies as st
from starlette.requests import Request

from garde.api.problems import language
from garde.i18n import ACCEPT_LANGUAGE_MAX, preferred_language
from garde.web.pages import page_language

ALL = ("en", "fr", "it")
SUPPORTED = st.permutations(ALL).flatmap(lambda langs: st.integers(1, 3).map(lambda n: tuple(langs[:n])))
PRIMARY = st.sampled_from(["en", "fr", "it", "de", "es", "FR", "En", "*", "fra", "english", "f"])
REGION = st.sampled_from(["", "-CH", "-ch", "-Latn", "-419", "-Latn-IT", "-x-private"])
GOOD_WEIGHTS = {None: 1.0, "1": 1.0, "1.0": 1.0, "1.000": 1.0, "0.9": 0.9, "0.5": 0.5, "0.001": 0.001,
                "0": 0.0, "0.": 0.0}
BAD_WEIGHTS = ["2", "1.5", "-1", "nan", "inf", "0.0001", "abc", "", "1e-1", ".5"]
WEIGHT = st.sampled_from([*GOOD_WEIGHTS, *BAD_WEIGHTS])


@st.composite
def accept_language(draw: st.DrawFn) -> list[tuple[str, str | None]]:
    return draw(st.lists(st.tuples(st.builds(str.__add__, PRIMARY, REGION), WEIGHT), max_size=8))


def _header(ranges: list[tuple[str, str | None]], spaces: bool) -> str:
    gap = " " if spaces else ""
    return f",{gap}".join(tag if q is None else f"{tag}{gap};{gap}q={q}" for tag, q in ranges)


def _expected(ranges: list[tuple[str, str | None]], supported: Sequence[str]) -> str:
    """What RFC 9110 asks: the supported language of highest weight (above 0), the first on a tie."""
    weighed = [(GOOD_WEIGHTS[q], index, supported[0] if tag == "*" else tag.split("-")[0].lower())
               for index, (tag, q) in enumerate(ranges) if q in GOOD_WEIGHTS]
    chosen = [(-weight, index, lang) for weight, index, lang in weighed if weight > 0 and lang in supported]
    return min(chosen)[2] if chosen else supported[0]


def _request(header: str) -> Request:
    return Request({"type": "http", "method": "GET", "path": "/", "query_string": b"",
                    "headers": [(b"accept-language", header.encode("utf-8"))]})


@given(header=st.text(max_size=2 * ACCEPT_LANGUAGE_MAX), supported=SUPPORTED)
def test_any_header_gives_a_supported_language(header: str, supported: tuple[str, ...]) -> None:
    assert preferred_language(header, supported) in supported


@given(header=st.text(alphabet=st.sampled_from("enfrit-*;q=0.5, \t"), max_size=3 * ACCEPT_LANGUAGE_MAX),
       supported=SUPPORTED)
def test_only_the_start_of_a_header_is_read(header: str, supported: tuple[str, ...]) -> None:
    read = header[:ACCEPT_LANGUAGE_MAX]
    assert preferred_language(header, supported) == preferred_language(read, supported)


def test_a_language_past_the_bound_is_not_read() -> None:
    assert preferred_language("de, " * 200 + "fr", ALL) == "en"
    assert preferred_language(",".join(["de"] * 40 + ["fr"]), ALL) == "en"  # past the ranges read


@given(ranges=accept_language(), spaces=st.booleans(), supported=SUPPORTED)
def test_weights_and_regions_are_honoured(ranges: list[tuple[str, str | None]], spaces: bool,
                                          supported: tuple[str, ...]) -> None:
    assert preferred_language(_header(ranges, spaces), supported) == _expected(ranges, supported)


@given(ranges=accept_language(), spaces=st.booleans())
def test_the_api_and_the_pages_read_it_alike(ranges: list[tuple[str, str | None]], spaces: bool) -> None:
    header = _header(ranges, spaces)
    assert language(_request(header)) == _expected(ranges, ("en", "fr", "it"))
    assert page_language(_request(header), ("en", "fr")) == _expected(ranges, ("en", "fr"))


def test_examples() -> None:
    assert preferred_language("fr-CH, fr;q=0.9, en;q=0.8", ALL) == "fr"
    assert preferred_language("de-DE, it;q=0.5, fr;q=0.4", ALL) == "it"
    assert preferred_language("french", ALL) == "en"  # not a range of fr
    assert preferred_language("fr;q=0, it;q=0.1", ALL) == "it"  # fr refused
    assert preferred_language("fr;q=nan, it;q=0.1", ALL) == "it"
    assert preferred_language("it;Q=0.9, fr;q=0.8", ALL) == "it"
    assert preferred_language("*, fr;q=0.5", ("it", "fr")) == "it"

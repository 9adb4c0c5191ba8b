"""Datasets: the annotated map of the databases holding personal data.

Load a map with :func:`load_datamap`, connect with :func:`connect_datamap`,
find a data subject's rows everywhere with :func:`find_subject`; erasure and
retention build their statements with :func:`erase_statement` and
:func:`masking_expression` over the same annotations.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy.engine import Engine

from garde.datasets.discovery import find_subject
from garde.datasets.footprint import Footprint, IdentityMatch, normalise_identity, row_identity
from garde.datasets.loading import discovery_warnings, load_datamap, load_dataset, parse_dataset
from garde.datasets.model import (
    STRATEGIES,
    ColumnMap,
    DataMap,
    Dataset,
    Masking,
    Reference,
    Strategy,
    TableMap,
    TableRef,
)
from garde.datasets.sql import (
    connect_datamap,
    connect_dataset,
    delete_statement,
    erase_statement,
    masking_expression,
    sql_table,
)


@contextmanager
def opened_datamap(path: str | Path) -> Iterator[tuple[DataMap, dict[str, Engine]]]:
    """The data map at ``path`` and an engine per database, closed when the block ends."""
    datamap = load_datamap(path)
    engines = connect_datamap(datamap)
    try:
        yield datamap, engines
    finally:
        for engine in engines.values():
            engine.dispose()


__all__ = [
    "STRATEGIES", "ColumnMap", "DataMap", "Dataset", "Footprint", "IdentityMatch", "Masking", "Reference",
    "Strategy", "TableMap", "TableRef", "connect_datamap", "connect_dataset", "delete_statement",
    "discovery_warnings", "erase_statement", "find_subject", "load_datamap", "load_dataset",
    "masking_expression", "normalise_identity", "opened_datamap", "parse_dataset", "row_identity",
    "sql_table",
]

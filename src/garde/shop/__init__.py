"""The reference shop "Maison Exemple": schema over two databases and a synthetic data generator.

The shop is declared to garde by ``datasets/shop.yaml`` and ``datasets/crm.yaml``
and its register ``registers/reference-shop.yaml``, like any external database.
"""

from garde.shop.load import GenerationReport, create_schema, generate_shop, row_counts, shop_checksum
from garde.shop.schema import METADATA

__all__ = ["METADATA", "GenerationReport", "create_schema", "generate_shop", "row_counts", "shop_checksum"]

"""The cookie banner: the script a shop embeds, its configuration, the visitor's choices (docs/banner.md)."""

from garde.web.banner.router import router

__all__ = ["router"]

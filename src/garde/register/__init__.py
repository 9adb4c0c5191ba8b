"""The register of processing activities: model and loading."""

from garde.register.banner import BannerCategory, BannerTracker, BannerView, banner_view
from garde.register.jurisdiction import Jurisdiction, jurisdiction
from garde.register.loading import (
    LoadedRegister,
    free_terms,
    load_register,
    parse_register,
    read_register,
    term_problems,
)
from garde.register.model import (
    Activity,
    Consent,
    Contact,
    Controller,
    Dpia,
    LegalBasis,
    Recipient,
    Register,
    Registration,
    RetentionRule,
    Text,
    Transfer,
    text_in,
)
from garde.register.trackers import Provider, Tracker

__all__ = [
    "Activity", "BannerCategory", "BannerTracker", "BannerView", "Consent", "Contact", "Controller", "Dpia",
    "Jurisdiction", "LegalBasis", "LoadedRegister", "Provider", "Recipient", "Register", "Registration",
    "RetentionRule", "Text", "Tracker", "Transfer", "banner_view", "free_terms", "jurisdiction",
    "load_register", "parse_register", "read_register", "term_problems", "text_in",
]

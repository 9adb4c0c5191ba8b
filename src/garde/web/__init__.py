"""The web faces of garde: privacy center, DPO dashboard, cookie banner."""

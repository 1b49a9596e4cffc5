"""Exchange an X (Twitter) app's API key and secret for an app-only bearer token."""

__version__ = "1.0.0"

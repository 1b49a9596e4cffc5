"""Exchange an X (Twitter) app's API key and secret for an app-only bearer token."""

# The one place for the version (pyproject.toml and the User-Agent read it): X.Y.Z.devN,
# a development version, until CHANGELOG.md has release X.Y.Z; then X.Y.Z.
__version__ = "1.0.0.dev0"

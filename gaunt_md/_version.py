"""The package version: one place, read by gaunt_md/__init__.py, the modules that record it
(exports, summaries) and pyproject.toml (setuptools reads it without importing the package)."""
__version__ = "0.1.0"

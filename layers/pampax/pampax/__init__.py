"""pampax: index a source repository into SQLite, search it, and assemble token-budgeted context bundles."""

__version__ = "0.1.0"

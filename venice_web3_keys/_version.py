"""The package version, in a module of its own so any layer can name it (the client's
User-Agent) without importing the package's exports."""

__version__ = "0.1.0"

"""libcli: the patron tool of Hachinohe City Library's internet reservation service."""


def __getattr__(name: str) -> str:
    # Resolved lazily so that `import libcli` (run on every TAB) stays cheap.
    if name == "__version__":
        try:
            from importlib.metadata import PackageNotFoundError, version
        except ImportError:  # pragma: no cover
            return "0.1.0"
        try:
            return version("libcli")
        except PackageNotFoundError:  # a source tree that was never installed
            return "0.1.0"
    raise AttributeError(name)

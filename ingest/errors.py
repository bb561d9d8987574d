"""Errors of the ingest: each names the input and what was wrong with it."""


class IngestError(Exception):
    """Base of every ingest error. `source` names the input (a URL, a file, an id)."""

    transient = False

    def __init__(self, source: str, message: str) -> None:
        self.source = source
        self.message = message
        super().__init__(f"{source}: {message}")


class ParseError(IngestError):
    """A page or payload that does not match its format. Final: retrying will not help."""

    def __init__(self, source: str, message: str, field: str | None = None) -> None:
        self.field = field
        super().__init__(source, f"{field}: {message}" if field else message)


class FetchError(IngestError):
    """A fetch that failed for good (404, refused host, oversized body...)."""

    def __init__(self, source: str, message: str, status: int | None = None) -> None:
        self.status = status
        super().__init__(source, message)


class TransientFetchError(FetchError):
    """A fetch that may work later (network error, 429, 5xx). Tasks retry these."""

    transient = True


class UnsafeURLError(FetchError):
    """A URL the catalog refuses to fetch: another scheme, a host not allowed, a private address."""

"""Database failures the API turns into 503 answers."""


class DatabaseUnavailable(Exception):
    """The database did not answer within the retry budget (or the pool stayed full)."""

    def __init__(self, reason: str, *, retry_after: int = 5) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after

"""Column helpers shared by the table models."""

from datetime import datetime

from sqlalchemy import Column, DateTime, func


def timestamp_column() -> Column[datetime]:
    # The database clock stamps rows so every replica agrees on ordering.
    return Column(DateTime(timezone=True), nullable=False, server_default=func.now())

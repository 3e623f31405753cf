"""Table models register themselves on SQLModel.metadata when imported."""

from aido.models.signing_secret import SigningSecret
from aido.models.task import Task, TaskQuota
from aido.models.throttle import Throttle
from aido.models.user import User

__all__ = ["SigningSecret", "Task", "TaskQuota", "Throttle", "User"]

"""Table models register themselves on SQLModel.metadata when imported."""

from aido.models.login_throttle import LoginThrottle
from aido.models.task import Task, TaskQuota
from aido.models.user import User

__all__ = ["LoginThrottle", "Task", "TaskQuota", "User"]

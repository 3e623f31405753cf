"""The caller's tasks. Another user's task is 404 on every verb: its existence is not told."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request, Response
from pydantic import TypeAdapter, ValidationError

from aido.api.deps import TaskCallerDep, task_caller
from aido.api.fast_path import FastPathRoute, SlowPath, fast_path, json_body
from aido.api.json import JSONBytes, json_response
from aido.api.responses import errors
from aido.models.task import (
    IDEMPOTENCY_KEY_MAX,
    TaskCreate,
    TaskList,
    TaskListQuery,
    TaskPublic,
    TaskUpdate,
)
from aido.queries import tasks

router = APIRouter(prefix="/tasks", tags=["tasks"], route_class=FastPathRoute)

# The fast paths of the list, the create and the patch (api/fast_path.py): the same inputs as
# the endpoints' signatures declare, read in FastAPI's order (a JSON body, then the token, then
# the other parameters), each accepted only when FastAPI would accept it to the same value.
_DEFAULT_LIST_QUERY = TaskListQuery()
_UUID = TypeAdapter(uuid.UUID)


def _list_query(request: Request) -> TaskListQuery:
    if not request.scope["query_string"]:
        return _DEFAULT_LIST_QUERY
    try:
        # A repeated parameter: its last value, as FastAPI reads it; unknown ones are ignored.
        return TaskListQuery.model_validate(dict(request.query_params))
    except ValidationError:
        raise SlowPath from None


def _idempotency_key(request: Request) -> str | None:
    key = request.headers.get("idempotency-key")
    if key is not None and not 1 <= len(key) <= IDEMPOTENCY_KEY_MAX:
        raise SlowPath
    return key


def _task_id(request: Request) -> uuid.UUID:
    try:
        return _UUID.validate_python(request.path_params["task_id"])
    except ValidationError:
        raise SlowPath from None


async def _read_list(request: Request) -> Response:
    caller = await task_caller(request)
    return await list_tasks(_list_query(request), caller)


async def _read_create(request: Request) -> Response:
    task_in = await json_body(request, TaskCreate)
    caller = await task_caller(request)
    return await create_task(task_in, caller, _idempotency_key(request))


async def _read_update(request: Request) -> Response:
    task_in = await json_body(request, TaskUpdate)
    caller = await task_caller(request)
    return await update_task(_task_id(request), task_in, caller)


@router.get(
    "",
    response_model=TaskList,
    summary="List the caller's tasks (keyset pagination)",
    description=(
        "Returns up to `limit` tasks and `next_cursor`. Pass `next_cursor` back as `cursor` "
        "(with the same `sort` and `order`) for the next page; it is null on the last page. "
        "The cost of a page does not grow with the number of tasks. There is no total count. "
        "A search (`q`) is cancelled after `SEARCH_TIMEOUT_SECONDS` (503); a user's searches "
        "beyond `SEARCH_CONCURRENCY_PER_USER` at once wait, then get 429."
    ),
    responses=errors(
        401, 422, 503,
        e429=("Too many searches at once by this user; retry after Retry-After seconds",
              "Too many searches at once; retry after Retry-After seconds."),
        e503=("The database is unavailable, or the search ran past SEARCH_TIMEOUT_SECONDS",
              "The search took longer than 2 s and was cancelled; search for something more "
              "specific."),
    ),
)  # fmt: skip
@fast_path(_read_list)
async def list_tasks(query: Annotated[TaskListQuery, Query()], caller: TaskCallerDep) -> JSONBytes:
    page = await tasks.list_tasks(
        caller.db, owner_id=caller.user_id, limit=query.limit, sort=query.sort,
        order=query.order, completed=query.completed, q=query.q, cursor=query.cursor,
        rules=caller.rules,
    )  # fmt: skip
    return json_response(page)


@router.post(
    "",
    status_code=201,
    response_model=TaskPublic,
    summary="Create a task",
    description=(
        "Send an `Idempotency-Key` header to make retries safe: a repeat with the same key "
        "and the same body returns the task created the first time (with "
        "`Idempotent-Replayed: true`); the same key with another body is 422. A user holds at "
        "most `TASKS_MAX_PER_USER` tasks (409) and creates at most `TASK_CREATES_PER_WINDOW` "
        "per `TASK_CREATE_WINDOW_SECONDS` (429 with `Retry-After`)."
    ),
    responses=errors(
        401, 413, 422, 503,
        e409=("The user already holds TASKS_MAX_PER_USER tasks",
              "Task limit reached: an account holds at most 10000 tasks; delete some first."),
        e429=("Too many creates in the window; retry after Retry-After seconds",
              "Too many tasks created: at most 300 per 60 s; retry in 12 s."),
    ),
)  # fmt: skip
@fast_path(_read_create)
async def create_task(
    task_in: TaskCreate,
    caller: TaskCallerDep,
    idempotency_key: Annotated[
        str | None, Header(min_length=1, max_length=IDEMPOTENCY_KEY_MAX)
    ] = None,
) -> JSONBytes:
    row, created = await tasks.create_task(
        caller.db,
        owner_id=caller.user_id,
        title=task_in.title,
        description=task_in.description,
        completed=task_in.completed,
        idempotency_key=idempotency_key,
        rules=caller.rules,
    )
    headers = None if created else {"Idempotent-Replayed": "true"}
    return json_response(row, 201, headers)


@router.get("/{task_id}", response_model=TaskPublic, responses=errors(401, 404, 422, 503))
async def read_task(task_id: uuid.UUID, caller: TaskCallerDep) -> JSONBytes:
    return json_response(await tasks.get_task(caller.db, owner_id=caller.user_id, task_id=task_id))


@router.patch(
    "/{task_id}",
    response_model=TaskPublic,
    summary="Change some fields of a task",
    responses=errors(401, 404, 413, 422, 503),
)
@fast_path(_read_update)
async def update_task(task_id: uuid.UUID, task_in: TaskUpdate, caller: TaskCallerDep) -> JSONBytes:
    changes = task_in.model_dump(exclude_unset=True)
    row = await tasks.update_task(
        caller.db, owner_id=caller.user_id, task_id=task_id, changes=changes
    )
    return json_response(row)


@router.post("/{task_id}/complete", response_model=TaskPublic, responses=errors(401, 404, 422, 503))
async def complete_task(task_id: uuid.UUID, caller: TaskCallerDep) -> JSONBytes:
    changes = {"completed": True}
    return json_response(
        await tasks.update_task(
            caller.db, owner_id=caller.user_id, task_id=task_id, changes=changes
        )
    )


@router.post("/{task_id}/reopen", response_model=TaskPublic, responses=errors(401, 404, 422, 503))
async def reopen_task(task_id: uuid.UUID, caller: TaskCallerDep) -> JSONBytes:
    changes = {"completed": False}
    return json_response(
        await tasks.update_task(
            caller.db, owner_id=caller.user_id, task_id=task_id, changes=changes
        )
    )


@router.delete("/{task_id}", status_code=204, responses=errors(401, 404, 422, 503))
async def delete_task(task_id: uuid.UUID, caller: TaskCallerDep) -> Response:
    await tasks.delete_task(caller.db, owner_id=caller.user_id, task_id=task_id)
    return Response(status_code=204)

"""Grid workers: their own tasks only — list (by deadline), accept, arrive, resolve, return,
request an extension. Another worker's task is answered 404, exactly like a missing one."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter, Response

from dispatch.api import board
from dispatch.api.answers import COMMAND_ERRORS, ERRORS, CommandAnswer, WorkerTask, WorkerTasks
from dispatch.api.commands import IdempotencyKey, answer, duration
from dispatch.api.errors import NotFound
from dispatch.api.models import WorkerAction, WorkerCommand
from dispatch.api.state import State, Worker
from dispatch.api.views import deadlines, next_deadline
from dispatch.cases.commands import Command
from dispatch.lifecycle.errors import IllegalTransition
from dispatch.lifecycle.states import Action, CaseState, Role

router = APIRouter(prefix="/worker", tags=["grid worker"], responses=ERRORS)


def _view(task: dict[str, Any], state: State) -> dict[str, Any]:
    incident = dict(task.pop("incident"))
    clocks = incident.pop("clocks", None)
    tk = state.flows.rules.tk
    due, provisional = next_deadline(clocks, tk)
    return {
        **task,
        "incident": incident,
        "deadlines": deadlines(clocks, tk),
        "due": due,
        "due_provisional": provisional,
    }


@router.get("/tasks", response_model=WorkerTasks)
async def my_tasks(caller: Worker, state: State) -> dict[str, Any]:
    """My active tasks, the most urgent deadline first (tasks without a running clock last)."""
    async with state.pool.connection() as conn:
        tasks = [_view(t, state) for t in await board.worker_tasks(conn, caller.subject)]
    tasks.sort(key=lambda t: (t["due"] is None, t["due"] or "", t["created_at"]))
    return {"worker_id": caller.subject, "items": tasks}


@router.get("/tasks/{task_id}", response_model=WorkerTask)
async def my_task(task_id: UUID, caller: Worker, state: State) -> dict[str, Any]:
    async with state.pool.connection() as conn:
        found = await board.worker_tasks(conn, caller.subject, str(task_id))
    if not found:
        raise NotFound()
    return _view(found[0], state)


@router.post("/tasks/{task_id}/{action}", response_model=CommandAnswer, responses=COMMAND_ERRORS)
async def act_on_task(
    *,
    task_id: UUID,
    action: WorkerAction,
    caller: Worker,
    state: State,
    response: Response,
    key: IdempotencyKey = None,
    body: WorkerCommand | None = None,
) -> dict[str, Any]:
    body = body or WorkerCommand()
    async with state.pool.connection() as conn:
        found = await board.worker_tasks(conn, caller.subject, str(task_id))
        if not found:
            raise NotFound()
        task = found[0]
        if task["status"] != "active":
            raise IllegalTransition(
                CaseState(task["incident"]["state"]),
                Action(action.value),
                Role.GRID_WORKER,
                f"task {task_id} is {task['status']}: it is no longer yours to act on",
            )
        command = Command(
            Action(action.value),
            caller.actor(),
            reason=body.reason,
            note=body.note,
            photos=tuple(body.photos),
            extension=duration(body.extension),
        )
        outcome = await state.flows.transition(conn, str(task["incident_id"]), command, key=key)
    return answer(outcome, response)

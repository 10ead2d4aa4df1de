"""Photos: a grid worker uploads one (`POST /worker/photos`, multipart field `photo`) and
passes the returned key in `resolve`'s `photos`; operators (in scope) and the task's worker
read it back at `GET /photos/{key}`. Anyone else gets 404, as for a missing photo."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, File, UploadFile
from fastapi.responses import FileResponse
from starlette.concurrency import run_in_threadpool

from dispatch.api import photos
from dispatch.api.answers import ERRORS, PHOTO_ERRORS, PhotoStored
from dispatch.api.auth import ApiRole
from dispatch.api.errors import NotFound
from dispatch.api.state import Caller, Forbidden, State, Worker

router = APIRouter(tags=["photos"], responses=ERRORS)


@router.post(
    "/worker/photos",
    status_code=201,
    response_model=PhotoStored,
    responses=PHOTO_ERRORS,
)
async def upload(
    caller: Worker,
    state: State,
    photo: Annotated[UploadFile, File(description="JPEG, PNG or WebP, at most 5 MB")],
) -> dict[str, Any]:
    """Store a photo for a resolve; answers its object key."""
    data = await photo.read(photos.MAX_BYTES + 1)
    key, kind = await run_in_threadpool(photos.store, state.settings.home, data, datetime.now(UTC))
    return {"key": key, "media_type": kind.media_type, "bytes": len(data)}


@router.get(
    "/photos/{key:path}",
    response_class=FileResponse,
    responses={200: {"content": {m: {} for m in ("image/jpeg", "image/png", "image/webp")}}},
)
async def read(key: str, caller: Caller, state: State) -> FileResponse:
    """A photo attached to a task you may see (operators: your street; workers: your tasks)."""
    if caller.role not in (ApiRole.OPERATOR, ApiRole.GRID_WORKER):
        raise Forbidden("photos are for operators and grid workers")
    path = photos.key_path(state.settings.home, key)
    if caller.role is ApiRole.GRID_WORKER:
        query = "SELECT 1 FROM tasks WHERE %s = ANY(photos) AND assignee_id = %s LIMIT 1"
        args: tuple[str | None, ...] = (key, caller.subject)
    else:
        query = (
            "SELECT 1 FROM tasks WHERE %s = ANY(photos) AND (street_code = %s OR %s::text IS NULL) LIMIT 1"
        )
        args = (key, caller.street, caller.street)
    async with state.pool.connection() as conn:
        cur = await conn.execute(query, args)
        found = await cur.fetchone()
    if found is None or not path.is_file():
        raise NotFound()
    kind = photos.BY_EXTENSION[path.suffix.lstrip(".")]
    return FileResponse(path, media_type=kind.media_type, headers={"Cache-Control": "private, max-age=86400"})

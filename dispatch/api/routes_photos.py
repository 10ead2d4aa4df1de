"""Photos: a grid worker uploads one (`POST /worker/photos`, multipart field `photo`) and
passes the returned key in `resolve`'s `photos`; operators (in scope) and the task's worker
read it back at `GET /photos/{key}`. Anyone else gets 404, as for a missing photo."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, File, UploadFile
from fastapi.responses import Response
from psycopg import sql

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
    async with state.pool.connection() as conn:
        key, kind = await photos.store(conn, data, datetime.now(UTC))
    return {"key": key, "media_type": kind.media_type, "bytes": len(data)}


@router.get(
    "/photos/{key:path}",
    response_class=Response,
    responses={200: {"content": {m: {} for m in ("image/jpeg", "image/png", "image/webp")}}},
)
async def read(key: str, caller: Caller, state: State) -> Response:
    """A photo attached to a task you may see (operators: your scope; workers: your tasks)."""
    if not caller.is_operator and caller.role is not ApiRole.GRID_WORKER:
        raise Forbidden("photos are for operators and grid workers")
    photos.checked_key(key)
    query: sql.Composable
    if caller.role is ApiRole.GRID_WORKER:
        query = sql.SQL("SELECT 1 FROM tasks t WHERE %s = ANY(t.photos) AND t.assignee_id = %s LIMIT 1")
        args: tuple[str, ...] = (key, caller.subject)
    else:
        query = sql.SQL(
            "SELECT 1 FROM tasks t JOIN incidents i USING (incident_id) "
            "WHERE %s = ANY(t.photos) AND {} LIMIT 1"
        ).format(caller.scope.where("i"))
        args = (key,)
    async with state.pool.connection() as conn:
        cur = await conn.execute(query, args)
        found = await cur.fetchone()
        stored = await photos.load(conn, key) if found is not None else None
    if stored is None:
        raise NotFound()
    data, kind = stored
    return Response(data, media_type=kind.media_type, headers={"Cache-Control": "private, max-age=86400"})

"""WebSub callback, outside /api/v1 because hubs carry no API key: the per-feed token in the path and the
X-Hub-Signature on pushed bodies authenticate them."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request, Response, status
from fastapi.concurrency import run_in_threadpool

from services.api.deps import SessionDep, SettingsDep
from services.api.params import IdPath
from services.dispatch import enqueue_processing
from shared.errors import TooLarge
from shared.fetching import push

router = APIRouter(prefix="/websub", tags=["websub"])
MAX_PUSH_BYTES = 5 * 1024 * 1024
TokenPath = Annotated[str, Path(max_length=100, description="the feed's callback token")]


@router.get("/{feed_id}/{token}")
def verify(feed_id: IdPath, token: TokenPath, request: Request, session: SessionDep) -> Response:
    """The hub's verification of intent: echo hub.challenge for a subscription we asked for, else 404."""
    query = dict(request.query_params)
    challenge = push.verify(session=session, feed_id=feed_id, token=token, query=query)
    session.commit()
    return Response(content=challenge, media_type="text/plain")


@router.post("/{feed_id}/{token}", status_code=status.HTTP_202_ACCEPTED)
async def receive(
    feed_id: IdPath, token: TokenPath, request: Request, session: SessionDep, settings: SettingsDep
) -> dict[str, int]:
    """Pushed content: verify the signature, store new entries, hand them to the pipeline at once."""
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_PUSH_BYTES:
            raise TooLarge(f"pushed body over {MAX_PUSH_BYTES} bytes")
    result = await run_in_threadpool(
        push.receive_push,
        session=session,
        feed_id=feed_id,
        token=token,
        body=body,
        signature=request.headers.get("x-hub-signature"),
        content_type=request.headers.get("content-type"),
        settings=settings,
    )
    await run_in_threadpool(session.commit)
    enqueue_processing(result.new_article_ids, settings=settings)
    return {"accepted": len(result.new_article_ids)}

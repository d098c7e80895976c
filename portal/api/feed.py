"""GET /api/v1/events: what patients said, for the practice program, oldest first, by cursor.

The cursor is the practice's own reply number (`Reply.seq`), handed out under
a lock held until the commit (see `portal.replies`): a reply committed later
never carries a lower number than one a reader has already seen, so paging
by `after` cannot skip it. A program that was offline passes the last `next`
it got and catches up.
"""
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field
from .. import replies
from ..access import scoped
from ..domain.replies import FEED_KINDS, INTENTS
from ..models import Reply
from .core import current_principal, operation
from .practice import TAG, seen
from .schemas import named_values

MAX_CURSOR = 2**31 - 1
FeedKind = named_values("FeedKind", tuple(FEED_KINDS.values()), "what the patient's reply means for the practice")
ReplyIntent = named_values("ReplyIntent", INTENTS, "what the text says, as understood")


class FeedQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    after: Annotated[int, Field(ge=0, le=MAX_CURSOR, description="the `next` of the previous page; 0 from the start")] = 0
    limit: Annotated[int, Field(ge=1, le=500, description="at most this many events")] = 100


class FeedEvent(BaseModel):
    cursor: int = Field(description="this event's place in the practice's feed")
    kind: FeedKind
    at: datetime = Field(description="when the patient sent the SMS")
    appointment: str = Field(description="the practice program's appointment ID the reply answers")
    patient: str = Field(description="the practice program's patient ID")
    text: str | None = Field(description="the SMS as the patient wrote it; null once erased or past retention")
    intent: ReplyIntent
    ambiguous: bool = Field(description="true when the number got reminders of more than one practice: the "
                                        "reply was not applied, read it (kind unreadable_reply)")


class FeedPage(BaseModel):
    events: list[FeedEvent]
    next: int = Field(description="pass as `after` for the next page; the same value when nothing new came")


@operation("GET", "/events", summary="What patients replied: confirmations, cancellation requests, opt-outs",
           permission="practice_sync", tag=TAG, query=FeedQuery, response=FeedPage)
def list_events(query: FeedQuery):
    """Confirmations (JA), cancellation requests (NEIN), opt-outs (STOP) and replies to read, of the key's
    practice, oldest first, after the cursor `after`. A cancellation request cancels nothing: the practice
    program decides, and cancels the appointment as usual. Page on with `next` until `events` is empty."""
    seen()
    rows = replies.feed_page(scoped(current_principal(), Reply), query.after, query.limit)
    events = [FeedEvent(cursor=reply.seq, kind=reply.kind, at=reply.at, appointment=appointment, patient=patient,
                        text=reply.text, intent=reply.intent, ambiguous=reply.ambiguous)
              for reply, appointment, patient in rows]
    return FeedPage(events=events, next=events[-1].cursor if events else query.after)

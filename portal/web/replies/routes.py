"""`/replies/`: the replies of the practices the user may see, newest first, one practice or all."""
from flask import Blueprint, render_template, request

from ...access import get_practice_or_404, scoped
from ...extensions import db
from ...models import Practice, Reply
from ...support import reply_kind_text
from ..common import paginate, permission_required, principal

bp = Blueprint("replies", __name__, url_prefix="/replies")


@bp.get("/")
@permission_required("read")
def index():
    """:raise 404: for a practice the user may not see."""
    practices = db.session.scalars(scoped(principal(), Practice).order_by(Practice.name)).all()
    chosen = get_practice_or_404(principal(), request.args["practice"]) if request.args.get("practice") else None
    replies = scoped(principal(), Reply).order_by(Reply.id.desc())
    if chosen is not None:
        replies = replies.where(Reply.practice_id == chosen.id)
    page = paginate(replies)
    return render_template("replies/index.html", page=page, practices=practices, chosen=chosen,
                           kind_text=reply_kind_text)

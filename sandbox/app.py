"""A MessageBird-compatible SMS sandbox: the REST paths the SDK uses, signed reports, faults."""

import hmac
import logging
import time

from flask import Blueprint, Flask, current_app, jsonify, request

from .messages import BadFilter, Invalid, build_message, list_filters, matches
from .replies import BadReply, deliver, reply_fields
from .state import Sandbox

log = logging.getLogger(__name__)
bp = Blueprint("sandbox", __name__)

ERRORS = {
    # status -> (MessageBird error code, description) for answers without a better one
    400: (21, "bad request"),
    401: (2, "Request not allowed (incorrect access_key)"),
    404: (20, "not found"),
    405: (21, "method not allowed"),
    429: (21, "too many requests"),
}


def create_app(access_key, signing_key=None, report_delay=0.2, *,
               report_backoff=(0.1, 0.5, 2.0), inbound_url=None, **faults):
    """The sandbox app; ``faults`` are the initial fault config (see ``sandbox.faults``).

    ``inbound_url`` is where simulated replies go (the reply number's forward URL).

    :raise ValueError: for an unknown or invalid fault.
    """
    app = Flask(__name__)
    app.json.sort_keys = False
    app.extensions["sandbox"] = Sandbox(access_key, signing_key, report_delay, report_backoff, faults)
    app.config["INBOUND_URL"] = inbound_url
    app.register_blueprint(bp)
    return app


def sandbox() -> Sandbox:
    return current_app.extensions["sandbox"]


def error(status, code=None, description=None, parameter=None, headers=None):
    """A MessageBird error answer: {"errors": [{code, description, parameter}]}."""
    default_code, default_description = ERRORS.get(status, (99, "internal error"))
    response = jsonify(errors=[{
        "code": default_code if code is None else code,
        "description": description or default_description,
        "parameter": parameter,
    }])
    response.status_code = status
    response.headers.update(headers or {})
    return response


@bp.before_app_request
def authenticate():
    # read the body even when refusing, so a kept-alive connection stays in sync
    request.get_data(cache=True)
    if request.path == "/_sandbox/health":
        return None
    given = request.headers.get("Authorization", "")
    expected = f"AccessKey {sandbox().access_key}"
    if not hmac.compare_digest(given.encode(), expected.encode()):
        return error(401, parameter="access_key")
    return None


@bp.app_errorhandler(404)
@bp.app_errorhandler(405)
def http_error(exc):
    return error(exc.code)


@bp.post("/messages")
def create_message():
    state = sandbox()
    faults = state.faults
    forced = state.forced_status()
    if forced and forced not in (200, 201):
        retry_after = {"Retry-After": str(int(faults["retry_after"]))} if forced == 429 else None
        return error(forced, headers=retry_after)
    delay = faults["delay_seconds"]
    if delay and not faults["accept_then_delay"]:
        time.sleep(delay)
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        data = request.form.to_dict()
    try:
        message, report_url = build_message(data, request.host_url, faults["reject_recipients"])
    except Invalid as exc:
        return error(422, 9, exc.description, exc.parameter)
    recipients = [str(item["recipient"]) for item in message["recipients"]["items"]]
    forced = next((faults["recipient_statuses"][r] for r in recipients if r in faults["recipient_statuses"]), None)
    if forced:
        return error(forced)
    state.accept(message, report_url, request.environ, faults)
    log.info("accepted message %s for %d recipient(s)", message["id"], len(message["recipients"]["items"]))
    if delay and faults["accept_then_delay"]:
        time.sleep(delay)  # the client may time out now, but the message is accepted
    time.sleep(max([faults["slow_recipients"].get(r, 0.0) for r in recipients]))
    return jsonify(message), 201


@bp.get("/messages")
def list_messages():
    """The accepted messages, newest first, filtered and paged as the REST API does.

    :raise 422: for a malformed filter.
    """
    try:
        filters = list_filters(request.args)
    except BadFilter as exc:
        return error(422, 9, f"{exc} is not valid", str(exc))
    found = [m for m in reversed(sandbox().all_messages()) if matches(m, filters)]
    offset, limit = filters["offset"], filters["limit"]
    page = found[offset:offset + limit]
    base = f"{request.host_url}messages?limit={limit}&offset="
    last = max(0, (len(found) - 1) // limit * limit)
    links = {"first": f"{base}0", "previous": f"{base}{max(0, offset - limit)}" if offset else None,
             "next": f"{base}{offset + limit}" if offset + limit < len(found) else None, "last": f"{base}{last}"}
    return jsonify(offset=offset, limit=limit, count=len(page), totalCount=len(found), links=links, items=page)


@bp.get("/messages/<message_id>")
def get_message(message_id):
    """:raise 404: for an unknown message."""
    message = sandbox().message(message_id)
    if message is None:
        return error(404, 20, "message not found", "id")
    return jsonify(message)


@bp.delete("/messages/<message_id>")
def delete_message(message_id):
    """:raise 404: for an unknown message."""
    if not sandbox().delete(message_id):
        return error(404, 20, "message not found", "id")
    return "", 204


@bp.get("/_sandbox/health")
def health():
    return jsonify(ok=True)


@bp.route("/_sandbox/faults", methods=["GET", "POST"])
def faults():
    state = sandbox()
    if request.method == "POST":
        try:
            state.set_faults(request.get_json(silent=True))
        except ValueError as exc:
            return error(400, 21, str(exc), "faults")
    return jsonify(state.faults)


@bp.post("/_sandbox/reply")
def reply():
    """A patient answers: `{originator, body, recipient?, url?}` forwarded, signed, to the inbound URL.

    :raise 400: for a malformed reply, or no inbound URL configured or given.
    """
    data = request.get_json(silent=True)
    url = (data.get("url") if isinstance(data, dict) else None) or current_app.config["INBOUND_URL"]
    if not url or not str(url).startswith(("http://", "https://")):
        return error(400, 21, "no inbound URL: start the sandbox with --inbound-url or send url", "url")
    try:
        fields = reply_fields(data, sandbox().all_messages())
    except BadReply as exc:
        return error(400, 21, str(exc), "reply")
    status, answer = deliver(url, fields, sandbox().reports.signing_key)
    log.info("reply %s forwarded: %s", fields["id"], status)
    return jsonify(message=fields, url=url, response_status=status, response=answer), 200


@bp.route("/_sandbox/messages", methods=["GET", "DELETE"])
def messages():
    state = sandbox()
    if request.method == "DELETE":
        state.clear()
        return "", 204
    items = state.snapshot()
    return jsonify(count=len(items), items=items)

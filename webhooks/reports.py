"""Reading a status report (or an inbound SMS) from the query string, a form or JSON; the provider knows its fields."""
from flask import Request, current_app

from portal import providers
from portal.providers import InboundSms, ReportUnreadable, StatusReport

FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def read_report(request: Request) -> StatusReport:
    """:raise ReportUnreadable: when a required field is missing or malformed."""
    return providers.for_config(current_app.config).parse_report(_fields(request))


def read_inbound(request: Request) -> InboundSms:
    """:raise ReportUnreadable: when a required field is missing or malformed."""
    return providers.for_config(current_app.config).parse_inbound(_fields(request))


def _fields(request: Request) -> dict:
    if request.is_json:
        data = request.get_json(silent=True)
        if not isinstance(data, dict):
            raise ReportUnreadable("the JSON body is not an object")
        return data
    if request.mimetype in FORM_TYPES and request.form:  # a GET's query string parses no body
        return request.form.to_dict()
    return request.args.to_dict()

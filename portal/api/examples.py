"""One example of each request and response body, shown in the API document.

The tests check each one against its model and its schema in the document,
so an example cannot drift from what the server accepts and answers.
"""
from . import practice_schemas as ps
from . import schemas as s
from .feed import FeedPage
from .lookup import LookupResult

CREATED_AT = "2026-11-02T09:15:00Z"
LICENCE = {"status": "active", "valid_from": "2026-11-01", "valid_until": None, "monthly_quota": 2000,
           "active": True, "created_at": CREATED_AT, "created_by": "lizenz@anbieter.example"}
GROUP = {"slug": "praxen-nord", "name": "Praxen Nord", "practices": ["am-markt"], "created_at": CREATED_AT}
PRACTICE = {"slug": "am-markt", "name": "Physiotherapie am Markt", "group": "praxen-nord", "timezone": "Europe/Berlin",
            "phone": "040 1234567", "sms_enabled": True, "licence": LICENCE, "last_seen_at": "2026-11-24T08:00:00Z",
            "created_at": CREATED_AT}
SETTINGS = {"settings": {
    "send_policy": {"value": "day_before", "source": "default", "own": None},
    "send_time": {"value": "17:30", "source": "practice", "own": "17:30"},
    "sender": {"value": "PraxisNord", "source": "group", "own": None},
}}
API_KEY = {"id": 7, "prefix": "pk_3Fh9xQ", "label": "Empfang", "created_at": CREATED_AT, "last_used_at": None,
           "revoked_at": None}
PATIENT_IN = {"first_name": "Erika", "last_name": "Mustermann", "salutation": "Frau", "mobile": "0170 12345678",
              "sms_consent": True}
PATIENT = {"id": "p-1001", "first_name": "Erika", "last_name": "Mustermann", "salutation": "Frau",
           "mobile": "+4917012345678", "mobile_as_typed": "0170 12345678", "mobile_problem": None,
           "mobile_problem_detail": None, "sms_consent": True, "revision": 1, "erased": False, "created": True,
           "warnings": []}
APPOINTMENT_IN = {"patient": "p-1001", "start": "2026-11-25T10:00:00+01:00", "duration_minutes": 30,
                  "therapist": "Herr Krause", "change_source": "dialog"}
REMINDER = {"kind": "reminder", "status": "planned", "reason": None, "reason_text": None,
            "start_at": "2026-11-25T09:00:00Z", "due_at": "2026-11-24T17:00:00Z", "submitted_at": None, "body": None,
            "recipient": None, "delivery_status": None, "delivered_at": None}
APPOINTMENT = {"id": "t-5521", "patient": "p-1001", "start": "2026-11-25T10:00:00+01:00", "duration_minutes": 30,
               "therapist": "Herr Krause", "sms_reminder": True, "cancelled": False, "cancelled_at": None,
               "revision": 1, "created": True, "reminder": REMINDER, "warnings": []}
LOOKUP_APPOINTMENT = {
    "verdict": "delivered", "sent_before_change": False,
    "conclusion": "SMS am 24.11.2026 um 18:00 an +49 170 ****678 zugestellt.",
    "id": 1842, "external_id": "t-5521", "practice": "am-markt", "start": "2026-11-25T10:00:00+01:00",
    "duration_minutes": 30, "therapist": "Herr Krause", "sms_reminder": True, "cancelled_at": None,
    "patient": {"id": "p-1001", "first_name": "Erika", "last_name": "Mustermann", "mobile": "+49 170 ****678",
                "mobile_problem": None, "sms_consent": True},
    "reminders": [{"id": 911, "kind": "reminder", "start_at": "2026-11-25T09:00:00Z", "status": "submitted",
                   "reason": None, "due_at": "2026-11-24T17:00:00Z", "submitted_at": "2026-11-24T17:00:02Z",
                   "body": "Guten Tag Frau Mustermann, Ihr Termin bei Physiotherapie am Markt: Mittwoch, 25.11.2026, "
                           "10:00 Uhr. Absagen bitte unter 040 1234567.",
                   "recipient": "+49 170 ****678", "sender": "Praxis", "segments": 1,
                   "message_id": "0b0c3d9e6f2a4e1d9a3b", "error_code": None, "delivery_status": "delivered",
                   "delivered_at": "2026-11-24T17:00:05Z"}],
    "timeline": [
        {"at": "2026-11-20T08:12:00Z", "kind": "created", "change_source": "dialog", "reminder_id": None,
         "data": {"start": "2026-11-25T09:00:00+00:00"}},
        {"at": "2026-11-24T17:00:05Z", "kind": "delivery_report", "change_source": None, "reminder_id": 911,
         "data": {"status": "delivered"}},
    ],
    "checklist": [{"check": "licence", "ok": True, "label": "Licence active", "detail": "since 01.11.2026"}],
    "summary": "The reminder was delivered on 24.11.2026 at 18:00.",
}

# Each model with its example: request bodies and responses alike.
EXAMPLES: dict[type, dict] = {
    s.GroupIn: {"slug": "praxen-nord", "name": "Praxen Nord"},
    s.GroupOut: GROUP,
    s.GroupList: {"groups": [GROUP]},
    s.PracticeIn: {"slug": "am-markt", "name": "Physiotherapie am Markt", "group": "praxen-nord",
                   "timezone": "Europe/Berlin", "phone": "040 1234567"},
    s.PracticeOut: PRACTICE,
    s.PracticeList: {"practices": [PRACTICE]},
    s.GroupSettingsIn: {"sender": "PraxisNord", "quiet_start": None},
    s.PracticeSettingsIn: {"send_time": "17:30", "sms_enabled": True},
    s.SettingsOut: SETTINGS,
    s.LicenceIn: {"status": "active", "valid_from": "2026-11-01", "monthly_quota": 2000},
    s.LicenceOut: LICENCE,
    s.LicenceHistory: {"current": LICENCE, "history": [LICENCE]},
    s.ApiKeyIn: {"label": "Empfang"},
    s.ApiKeyCreated: {**API_KEY, "key": "pk_3Fh9xQ2mVb7LrT0wYk1NcZ5sHq8dJe4uAgXo6iPl9Ef"},
    s.ApiKeyList: {"api_keys": [API_KEY]},
    s.AuditPage: {"entries": [{"at": CREATED_AT, "actor": "lizenz@anbieter.example", "action": "licence.change",
                               "object_type": "practice", "object_key": "am-markt", "before": None,
                               "after": {"status": "active"}}], "next_before": None},
    ps.PatientIn: PATIENT_IN,
    ps.PatientOut: PATIENT,
    ps.AppointmentIn: APPOINTMENT_IN,
    ps.AppointmentOut: APPOINTMENT,
    ps.CancelIn: {"change_source": "calendar_drag"},
    ps.SyncIn: {"operations": [
        {"op": "put_patient", "id": "p-1001", "data": PATIENT_IN},
        {"op": "put_appointment", "id": "t-5521", "data": APPOINTMENT_IN},
        {"op": "delete_appointment", "id": "t-5480", "data": {"change_source": "calendar_drag"}},
    ]},
    ps.SyncOut: {"applied": 2, "failed": 1, "results": [
        {"index": 0, "op": "put_patient", "id": "p-1001", "status": 200, "detail": None, "errors": [],
         "warnings": [], "result": PATIENT},
        {"index": 1, "op": "put_appointment", "id": "t-5521", "status": 200, "detail": None, "errors": [],
         "warnings": [], "result": APPOINTMENT},
        {"index": 2, "op": "delete_appointment", "id": "t-5480", "status": 404, "detail": "No such appointment.",
         "errors": [], "warnings": [], "result": None},
    ]},
    LookupResult: {"appointments": [LOOKUP_APPOINTMENT], "more": False},
    FeedPage: {"events": [
        {"cursor": 41, "kind": "confirmed", "at": "2026-11-24T17:12:09Z", "appointment": "t-5521",
         "patient": "p-1001", "text": "Ja, danke!", "intent": "confirm", "ambiguous": False},
        {"cursor": 42, "kind": "cancellation_requested", "at": "2026-11-24T17:40:51Z", "appointment": "t-5530",
         "patient": "p-1007", "text": "Nein, leider krank", "intent": "cancel_request", "ambiguous": False},
        {"cursor": 43, "kind": "opted_out", "at": "2026-11-24T18:02:00Z", "appointment": "t-5533",
         "patient": "p-1010", "text": "STOP", "intent": "stop", "ambiguous": False},
    ], "next": 43},
}

# Each path and query parameter with its example: what a request names.
PARAMETERS = {
    "group_slug": "praxen-nord", "practice_slug": "am-markt", "patient_id": "p-1001", "appointment_id": "t-5521",
    "key_id": 7, "before": 1200, "limit": 20, "phone": "0170 12345678", "name": "Müller Erika",
    "appointment": "t-5521", "message_id": "0b0c3d9e6f2a4e1d9a3b", "practice": "am-markt", "from": "2026-11-25",
    "to": "2026-11-25", "reveal": False,
    "after": 40,
}

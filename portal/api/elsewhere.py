"""What the API document also describes, though other blueprints serve it.

The provider's webhooks (the `webhooks` package) and the operations
endpoints `/healthz`, `/readyz`, `/metrics`, with the shapes CONTRACT.md
fixes. Described here so that one document covers the whole HTTP interface.
"""
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from ..providers.messagebird import SIGNATURE_HEADER
from .practice_schemas import DeliveryStatus


class StatusReport(BaseModel):
    """A MessageBird SMS status report, as query string, form or JSON; the provider may add fields."""

    model_config = ConfigDict(extra="allow")
    id: str = Field(max_length=64, description="the provider's message ID")
    reference: str | None = Field(None, max_length=128, description="our reference, set when the reminder was sent")
    recipient: str | None = Field(None, max_length=20, description="the phone number, digits with an optional +")
    status: DeliveryStatus
    statusDatetime: str = Field(description="RFC 3339 with an offset")
    statusReason: str | None = Field(None, max_length=100)
    statusErrorCode: str | None = Field(None, max_length=20)


class InboundSms(BaseModel):
    """An SMS a patient sent to MESSAGEBIRD_REPLY_NUMBER, as MessageBird forwards it; it may add fields."""

    model_config = ConfigDict(extra="allow")
    id: str = Field(max_length=64, description="the provider's message ID: a redelivery is recorded once")
    originator: str = Field(max_length=20, description="the patient's number, digits with an optional +")
    recipient: str | None = Field(None, max_length=20, description="our reply number (older forwards: receiver)")
    body: str | None = Field(None, max_length=1600, description="the text (older forwards: payload)")
    createdDatetime: str = Field(description="RFC 3339 with an offset: when the patient sent it")


class WebhookAnswer(BaseModel):
    result: str = Field(description="status reports: recorded, duplicate or orphan (kept without a reminder); "
                                    "inbound SMS: recorded, ambiguous (recorded for each practice that messaged "
                                    "the number), unmatched (kept, no practice found) or duplicate; "
                                    "refused or unreadable")
    detail: str | None = Field(None, description="why a report was refused")


class Health(BaseModel):
    status: Literal["ok"]


class ReadinessChecks(BaseModel):
    database: str = Field(description="ok, or a short reason")
    redis: str = Field(description="ok, or a short reason")
    migrations: str = Field(description="ok, or a short reason")


class Readiness(BaseModel):
    status: Literal["ready", "unavailable"]
    checks: ReadinessChecks


MODELS = (StatusReport, InboundSms, WebhookAnswer, Health, Readiness)

WEBHOOKS = {
    "messagebirdStatusReport": {
        "path": "/webhooks/messagebird/status",
        "summary": "A delivery report for a reminder",
        "description": "MessageBird calls `{PUBLIC_BASE_URL}/webhooks/messagebird/status` with GET (query string) "
                       "or POST (form or JSON). 200 when recorded, already recorded, or kept as an orphan; "
                       "nothing is changed by a refused request.",
        "body": StatusReport,
    },
    "messagebirdInboundSms": {
        "path": "/webhooks/messagebird/inbound",
        "summary": "A patient's reply to a reminder",
        "description": "MessageBird forwards each SMS sent to the reply number to "
                       "`{PUBLIC_BASE_URL}/webhooks/messagebird/inbound`, signed like status reports, with GET "
                       "(query string) or POST (form or JSON). JA confirms, NEIN asks to cancel, STOP withdraws "
                       "consent (answered once by SMS); anything else is kept for the practice to read. The "
                       "practice program reads them from `GET /api/v1/events`. Nothing is changed by a refused "
                       "request.",
        "body": InboundSms,
    },
}
WEBHOOK_ANSWERS = {
    200: "Recorded, already recorded, or kept (an orphan report, an unmatched SMS)",
    400: "A report or SMS that cannot be read",
    401: f"A missing, invalid, expired or replayed signature in `{SIGNATURE_HEADER}`",
}

EXAMPLES = {
    StatusReport: {"id": "0b0c3d9e6f2a4e1d9a3b", "reference": "r-1842-1", "recipient": "4917012345678",
                   "status": "delivered", "statusDatetime": "2026-11-24T17:00:05+00:00", "mccmnc": "26203"},
    InboundSms: {"id": "5a1f3c9be1a74c2d8f0e7b6a", "originator": "4917012345678", "recipient": "4915712345678",
                 "body": "Ja, danke!", "createdDatetime": "2026-11-24T17:12:09+00:00"},
    WebhookAnswer: {"result": "recorded"},
    Health: {"status": "ok"},
    Readiness: {"status": "ready", "checks": {"database": "ok", "redis": "ok", "migrations": "ok"}},
}
METRICS_EXAMPLE = (
    "# TYPE praxis_reminders gauge\npraxis_reminders{status=\"planned\"} 42.0\n"
    "# TYPE praxis_dispatch_lag_seconds gauge\npraxis_dispatch_lag_seconds 0.0\n"
)


def operations_paths(ref) -> dict:
    """`/healthz`, `/readyz` and `/metrics`; `ref(model)` names a component schema."""
    def answer(description: str, model) -> dict:
        return {"description": description,
                "content": {"application/json": {"schema": ref(model), "example": EXAMPLES[model]}}}

    unavailable = {**EXAMPLES[Readiness], "status": "unavailable", "checks": {
        "database": "ok", "redis": "Connection refused", "migrations": "ok"}}
    return {
        "/healthz": {"get": {
            "operationId": "getHealth", "tags": ["operations"], "security": [],
            "summary": "Liveness: the process serves", "description": "Checks nothing else.",
            "responses": {"200": answer("The process serves", Health)},
        }},
        "/readyz": {"get": {
            "operationId": "getReadiness", "tags": ["operations"], "security": [],
            "summary": "Readiness: database, Redis and migrations",
            "description": "503 with the same shape when a check fails; its value is a short reason.",
            "responses": {
                "200": answer("Ready", Readiness),
                "503": {"description": "A check failed",
                        "content": {"application/json": {"schema": ref(Readiness), "example": unavailable}}},
            },
        }},
        "/metrics": {"get": {
            "operationId": "getMetrics", "tags": ["operations"], "security": [{}, {"metricsToken": []}],
            "summary": "Prometheus metrics",
            "description": "Prometheus text format. With `METRICS_TOKEN` set, only for "
                           "`Authorization: Bearer METRICS_TOKEN`.",
            "responses": {
                "200": {"description": "The metrics",
                        "content": {"text/plain": {"schema": {"type": "string"}, "example": METRICS_EXAMPLE}}},
                "401": {"description": "METRICS_TOKEN is set and was not sent"},
            },
        }},
    }


def webhooks(ref) -> dict:
    """The `webhooks` section: each report as GET with a query string or POST with a form or JSON."""
    result = {}
    for name, hook in WEBHOOKS.items():
        model = hook["body"]
        signature = {"name": SIGNATURE_HEADER, "in": "header", "required": True, "schema": {"type": "string"},
                     "description": "a JWT signed with MESSAGEBIRD_SIGNING_KEY over the URL and body"}
        answers = {str(code): {"description": text, "content": {"application/json": {
            "schema": ref(WebhookAnswer),
            "example": EXAMPLES[WebhookAnswer] if code == 200 else {"result": "refused" if code == 401 else "unreadable",
                                                                     "detail": text}}}}
                   for code, text in WEBHOOK_ANSWERS.items()}
        common = {"summary": hook["summary"], "description": hook["description"], "tags": ["webhooks"],
                  "security": [], "responses": answers}
        result[name] = {
            "get": {**common, "operationId": f"{name}Get", "parameters": [signature, {
                "name": "report", "in": "query", "required": True, "style": "form", "explode": True,
                "schema": ref(model), "example": EXAMPLES[model]}]},
            "post": {**common, "operationId": f"{name}Post", "parameters": [signature], "requestBody": {
                "required": True, "content": {
                    media: {"schema": ref(model), "example": EXAMPLES[model]}
                    for media in ("application/x-www-form-urlencoded", "application/json")}}},
        }
    return result

"""The sending fixtures (the sandbox, the portal over HTTP, due reminders) serve these tests too."""
from ..sending.conftest import due, portal_server, sandbox_server, sending  # noqa: F401

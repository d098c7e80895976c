"""The portal's signed-cookie sessions, without their cost for requests that carry none (API, webhooks)."""
from flask.sessions import SecureCookieSessionInterface


class PortalSessions(SecureCookieSessionInterface):
    """Flask's cookie sessions; a request without the cookie gets an empty session without a signer being built,
    and an empty session nobody changed is not saved (no Set-Cookie)."""

    def open_session(self, app, request):
        if app.secret_key and not request.cookies.get(self.get_cookie_name(app)):
            return self.session_class()
        return super().open_session(app, request)

    def save_session(self, app, session, response) -> None:
        if not session and not session.modified:
            if session.accessed:
                response.vary.add("Cookie")  # what Flask says too: the answer depended on the (absent) cookie
            return
        super().save_session(app, session, response)

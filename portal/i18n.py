"""Language choice: German by default, English on request."""
from flask import request, session
from flask_login import current_user

LANGUAGES = ("de", "en")


def select_locale() -> str:
    """The user's saved choice, then the session's, then the browser's, then German."""
    if getattr(current_user, "is_authenticated", False) and current_user.locale in LANGUAGES:
        return current_user.locale
    if session.get("locale") in LANGUAGES:
        return session["locale"]
    return request.accept_languages.best_match(LANGUAGES) or "de"

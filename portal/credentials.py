"""Personal API tokens and practice API keys: issued once, stored hashed.

The secrets are 256 random bits, so a plain SHA-256 is the right hash: it
is looked up by value, and no password-style stretching is needed.
"""
import functools
import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import bindparam, select
from sqlalchemy.orm import joinedload

from .access import Principal
from .extensions import db
from .models import ApiToken, Practice, PracticeApiKey, User, utcnow

TOKEN_PREFIX = "pt_"
KEY_PREFIX = "pk_"
# last_used_at is kept to the minute, so a busy client costs no write per request.
TOUCH_EVERY = timedelta(minutes=1)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _new_secret(prefix: str) -> str:
    return prefix + secrets.token_urlsafe(32)


def issue_personal_token(user: User, label: str | None = None) -> tuple[ApiToken, str]:
    """A new token for `user`; the plain secret is returned once and never stored."""
    secret = _new_secret(TOKEN_PREFIX)
    token = ApiToken(user=user, token_hash=digest(secret), prefix=secret[:10], label=label)
    db.session.add(token)
    return token, secret


def issue_practice_key(practice: Practice, created_by: User | None, label: str | None = None) -> tuple[PracticeApiKey, str]:
    """A new API key for the practice program; the plain key is returned once."""
    secret = _new_secret(KEY_PREFIX)
    key = PracticeApiKey(
        practice=practice, key_hash=digest(secret), prefix=secret[:10], label=label, created_by=created_by
    )
    db.session.add(key)
    return key, secret


def authenticate(secret: str) -> Principal | None:
    """The caller a bearer secret stands for, or None when it is unknown or revoked."""
    if secret.startswith(TOKEN_PREFIX):
        token = db.session.scalars(
            select(ApiToken).where(ApiToken.token_hash == digest(secret), ApiToken.revoked_at.is_(None))
        ).first()
        if token is None or not token.user.active:
            return None
        _touch(token)
        return Principal(user=token.user)
    if secret.startswith(KEY_PREFIX):
        key = _practice_key(secret)
        if key is None:
            return None
        if _touch(key):
            # the commit expired what was loaded: load it again in one statement, not one lazy load each
            key = _practice_key(secret) or key
        return Principal(practice_key=key)
    return None


def _practice_key(secret: str) -> PracticeApiKey | None:
    """The unrevoked key with this secret, with its practice and the practice's group and licences: a key
    works for its own practice only (`Principal.practice`), and planning and the answers read them."""
    return db.session.scalars(_practice_key_statement(), {"key_hash": digest(secret)}).unique().one_or_none()


@functools.cache
def _practice_key_statement():
    # built once: building it and its cache key again costs a fifth of a millisecond on every API request
    practice = joinedload(PracticeApiKey.practice, innerjoin=True)
    return (
        select(PracticeApiKey)
        .where(PracticeApiKey.key_hash == bindparam("key_hash"), PracticeApiKey.revoked_at.is_(None))
        .options(practice.joinedload(Practice.group, innerjoin=True), practice.joinedload(Practice.licences))
    )


def _touch(credential) -> bool:
    """Record the use, at most once a minute, in a commit of its own; True when it committed."""
    now = utcnow()
    if credential.last_used_at is None or now - credential.last_used_at > TOUCH_EVERY:
        credential.last_used_at = now
        db.session.commit()
        return True
    return False

"""Forms of the staff interface: input shape only; rules that need data live in services."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import DateField, PasswordField, StringField
from wtforms.validators import DataRequired, Length, Optional, Regexp

from crypto.constants import PASSWORD_MAX_CHARS

_CODE_SHAPE = Regexp(r"[0-9]{6}\Z", message="A code is six digits.")


def _digits_only(value: str | None) -> str | None:
    # Authenticator apps show "123 456"; people type it as they see it.
    return "".join(value.split()) if value else value


class LoginForm(FlaskForm):
    """Username, password and the current code (left empty before the first login)."""

    username = StringField(
        "Username",
        validators=[DataRequired("Enter your username."), Length(max=64)],
    )
    password = PasswordField(
        "Password",
        validators=[DataRequired("Enter your password."), Length(max=PASSWORD_MAX_CHARS)],
    )
    code = StringField(
        "Code from your authenticator app",
        filters=[_digits_only],
        validators=[Optional(), _CODE_SHAPE],
    )


class EnrolForm(FlaskForm):
    """The first code from a newly set-up authenticator app."""

    code = StringField(
        "Code shown by the app",
        filters=[_digits_only],
        validators=[DataRequired("Enter the six-digit code the app shows."), _CODE_SHAPE],
    )


class ExportForm(FlaskForm):
    """Export what is new, or everything received since a day."""

    since = DateField(
        "Everything received since (optional)",
        format="%Y-%m-%d",
        validators=[Optional()],
    )


class ReplyUploadForm(FlaskForm):
    """A reply bundle from the review workstation."""

    bundle = FileField("Reply bundle (.rzr)", validators=[FileRequired("Choose a reply bundle.")])


class ActionForm(FlaskForm):
    """A button that changes something (log out): CSRF token only."""

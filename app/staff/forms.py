"""Forms of the staff interface: input shape only; rules that need data live in services."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import DateField, PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, Optional, Regexp

from crypto.constants import PASSWORD_MAX_CHARS

_CODE_SHAPE = Regexp(r"[0-9]{6}\Z", message=_l("A code is six digits."))


def _digits_only(value: str | None) -> str | None:
    # Authenticator apps show "123 456"; people type it as they see it.
    return "".join(value.split()) if value else value


class LoginForm(FlaskForm):
    """Username, password and the current code (left empty before the first login)."""

    username = StringField(
        _l("Username"),
        validators=[DataRequired(_l("Enter your username.")), Length(max=64)],
    )
    password = PasswordField(
        _l("Password"),
        validators=[DataRequired(_l("Enter your password.")), Length(max=PASSWORD_MAX_CHARS)],
    )
    code = StringField(
        _l("Code from your authenticator app"),
        filters=[_digits_only],
        validators=[Optional(), _CODE_SHAPE],
    )


class ChangePasswordForm(FlaskForm):
    """The current password, the new one typed twice, and a fresh code from the phone."""

    current = PasswordField(
        _l("Current password"),
        validators=[
            DataRequired(_l("Enter your current password.")),
            Length(max=PASSWORD_MAX_CHARS),
        ],
    )
    new = PasswordField(
        _l("New password"),
        # How long it must be is the crypto package's rule (`hash_password`), checked once.
        validators=[DataRequired(_l("Enter a new password.")), Length(max=PASSWORD_MAX_CHARS)],
    )
    repeated = PasswordField(
        _l("New password again"),
        validators=[
            DataRequired(_l("Type the new password a second time.")),
            EqualTo("new", message=_l("The two new passwords differ.")),
        ],
    )
    # The password alone, seen typed, and a laptop left logged in must not change it.
    code = StringField(
        _l("Code from your authenticator app"),
        filters=[_digits_only],
        validators=[DataRequired(_l("Enter the six-digit code the app shows.")), _CODE_SHAPE],
    )


class ReauthForm(FlaskForm):
    """The password and a fresh code again, sent along with the change they confirm."""

    class Meta:
        # The change's own form carries the token, and the global check read it.
        csrf = False

    reauth_password = PasswordField(
        _l("Your password"),
        validators=[DataRequired(_l("Enter your password.")), Length(max=PASSWORD_MAX_CHARS)],
    )
    reauth_code = StringField(
        _l("Code from your authenticator app"),
        filters=[_digits_only],
        validators=[DataRequired(_l("Enter the six-digit code the app shows.")), _CODE_SHAPE],
    )


class EnrolForm(FlaskForm):
    """The first code from a newly set-up authenticator app."""

    code = StringField(
        _l("Code shown by the app"),
        filters=[_digits_only],
        validators=[DataRequired(_l("Enter the six-digit code the app shows.")), _CODE_SHAPE],
    )


class ExportForm(FlaskForm):
    """Export what is new, or everything received since a day."""

    since = DateField(
        _l("Everything received since (optional)"),
        format="%Y-%m-%d",
        validators=[Optional()],
    )


class ReplyUploadForm(FlaskForm):
    """A reply bundle from the review workstation."""

    bundle = FileField(
        _l("Reply bundle (.rzr)"), validators=[FileRequired(_l("Choose a reply bundle."))]
    )


class ActionForm(FlaskForm):
    """A button that changes something (log out): CSRF token only."""

"""Forms of the admin pages: input shape only; the rules on values live in the services."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length

from app.services.staff_admin import ROLES

# Plain values, each its own label: WTForms 3.3 deprecates (value, label) tuples.
_ROLE_CHOICES: list[Any] = list(ROLES)
_DIRECTIONS: list[Any] = ["up", "down"]


class ActionForm(FlaskForm):
    """A button that changes something: the CSRF token is all it carries."""


class CreateAccountForm(FlaskForm):
    """A new account: its name and role (the server makes its passphrase)."""

    username = StringField("Username", [DataRequired(), Length(max=64)])
    role = SelectField("Role", choices=_ROLE_CHOICES, default="staff")


class RoleForm(FlaskForm):
    """Change an account's role."""

    role = SelectField("Role", choices=_ROLE_CHOICES)


class RemoveAccountForm(FlaskForm):
    """Remove an account, once the box is ticked."""

    confirm = BooleanField("Yes, remove", [DataRequired("Tick the box to confirm the removal.")])


class GeneralSettingsForm(FlaskForm):
    """The instance's name, upload limit and retention."""

    organisation = StringField("Organisation name", [DataRequired()])
    upload_limit_mib = IntegerField("Upload limit per report (MiB)", [InputRequired()])
    retention_days = IntegerField(
        "Delete items not yet acknowledged after (days)", [InputRequired()]
    )
    source_expiry_days = IntegerField(
        "Expire sources with no activity after (days)", [InputRequired()]
    )


class ResourcesForm(FlaskForm):
    """The legal-aid and support page, in both languages."""

    resources_en = TextAreaField("In English", [DataRequired()])
    resources_ur = TextAreaField("In Urdu", [DataRequired()])


class TermForm(FlaskForm):
    """A new taxonomy term."""

    code = StringField("Code", [DataRequired(), Length(max=64)])
    label_en = StringField("English label", [DataRequired()])
    label_ur = StringField("Urdu label", [DataRequired()])


class TermLabelsForm(FlaskForm):
    """New labels for a taxonomy term."""

    label_en = StringField("English label", [DataRequired()])
    label_ur = StringField("Urdu label", [DataRequired()])


class MoveTermForm(FlaskForm):
    """Move a taxonomy term up or down."""

    direction = SelectField("Direction", choices=_DIRECTIONS)


class KeyringInstallForm(FlaskForm):
    """A successor manifest, pasted from the file the authorities signed.

    Pasted rather than uploaded: file parts sent to views that do not take
    reports are dropped unread (`app.uploads`). The manifest is public (keys
    and signatures), and any change to it in transit is refused by its signatures.
    """

    manifest = TextAreaField(
        "Manifest",
        [DataRequired("Paste the manifest file's contents.")],
    )

    def manifest_bytes(self) -> bytes:
        """The pasted manifest as the bytes of its file."""
        return (self.manifest.data or "").encode("utf-8")

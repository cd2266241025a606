"""Forms of the admin pages: input shape only; the rules on values live in the services."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length

from app.services.staff_admin import ROLES
from crypto.constants import MANIFEST_MAX_BYTES

# Plain values, each its own label: WTForms 3.3 deprecates (value, label) tuples.
_ROLE_CHOICES: list[Any] = list(ROLES)
_DIRECTIONS: list[Any] = ["up", "down"]


class ActionForm(FlaskForm):
    """A button that changes something: the CSRF token is all it carries."""


class CreateAccountForm(FlaskForm):
    """A new account: its name and role (the server makes its passphrase)."""

    username = StringField(_l("Username"), [DataRequired(), Length(max=64)])
    role = SelectField(_l("Role"), choices=_ROLE_CHOICES, default="staff")


class RoleForm(FlaskForm):
    """Change an account's role."""

    role = SelectField(_l("Role"), choices=_ROLE_CHOICES)


class RemoveAccountForm(FlaskForm):
    """Remove an account, once the box is ticked."""

    confirm = BooleanField(
        _l("Yes, remove"), [DataRequired(_l("Tick the box to confirm the removal."))]
    )


class GeneralSettingsForm(FlaskForm):
    """The instance's name, upload limit and retention."""

    organisation = StringField(_l("Organisation name"), [DataRequired()])
    upload_limit_mib = IntegerField(_l("Upload limit per report (MiB)"), [InputRequired()])
    retention_days = IntegerField(
        _l("Delete items not yet acknowledged after (days)"), [InputRequired()]
    )
    source_expiry_days = IntegerField(
        _l("Expire sources with no activity after (days)"), [InputRequired()]
    )


class ResourcesForm(FlaskForm):
    """The legal-aid and support page, in both languages."""

    resources_en = TextAreaField(_l("In English"), [DataRequired()])
    resources_ur = TextAreaField(_l("In Urdu"), [DataRequired()])
    resources_reviewed = BooleanField(
        _l(
            "I have reviewed this page for this instance: it is true, and we can vouch for "
            "every contact it names"
        )
    )


class TermForm(FlaskForm):
    """A new taxonomy term."""

    code = StringField(_l("Code"), [DataRequired(), Length(max=64)])
    label_en = StringField(_l("English label"), [DataRequired()])
    label_ur = StringField(_l("Urdu label"), [DataRequired()])


class TermLabelsForm(FlaskForm):
    """New labels for a taxonomy term."""

    label_en = StringField(_l("English label"), [DataRequired()])
    label_ur = StringField(_l("Urdu label"), [DataRequired()])


class MoveTermForm(FlaskForm):
    """Move a taxonomy term up or down."""

    direction = SelectField(_l("Direction"), choices=_DIRECTIONS)


class KeyringInstallForm(FlaskForm):
    """A successor manifest: the file the authorities signed, or its contents pasted.

    Either is safe to carry: a manifest holds only public keys and signatures,
    and any change to it in transit is refused by its signatures.
    """

    file = FileField(_l("Manifest file"))
    manifest = TextAreaField(_l("Or paste its contents"))

    def validate(self, extra_validators: Any = None) -> bool:
        """Require exactly one of the file and the pasted text."""
        if not super().validate(extra_validators):
            return False
        upload = self.file.data
        chosen = [upload is not None and bool(upload.filename), bool(self.manifest.data)]
        if chosen.count(True) != 1:
            self.manifest.errors = [
                _l("Choose the manifest file, or paste the manifest file's contents (not both).")
            ]
            return False
        return True

    def manifest_bytes(self) -> bytes:
        """The manifest as the bytes of its file, read once and no further than crypto's limit.

        One byte past the limit is enough for `crypto` to refuse it as oversized.
        """
        if not hasattr(self, "_bytes"):
            upload = self.file.data
            if upload is not None and upload.filename:
                self._bytes = bytes(upload.stream.read(MANIFEST_MAX_BYTES + 1))
            else:
                self._bytes = (self.manifest.data or "").encode("utf-8")
        data: bytes = self._bytes
        return data


class AuditFilterForm(FlaskForm):
    """Which entries of the audit log to show: one action's, one actor's, or both."""

    class Meta:
        # Read from the address of a GET that changes nothing: there is no token to check.
        csrf = False

    # Any value filters: one the log does not hold matches nothing.
    action = SelectField(_l("Action"), validate_choice=False)
    actor = SelectField(_l("Who"), validate_choice=False)

    def offer(self, actions: list[str], actors: list[str]) -> None:
        """Offer every action and actor the log holds, and the value asked for."""
        self.action.choices = _everything(_l("All actions"), actions, self.action.data)
        self.actor.choices = _everything(_l("Everyone"), actors, self.actor.data)


def _everything(label: Any, values: list[str], asked: str | None) -> dict[str, Any]:
    """A select's choices: none chosen first, then each value (the one asked for kept)."""
    return {"": label} | {v: v for v in values} | ({asked: asked} if asked else {})

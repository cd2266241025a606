"""Forms of the source interface: input shape only; rules that need data live in services."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.csrf import _FlaskFormCSRF  # FlaskForm's own token field's checker
from wtforms import HiddenField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from app.settings import Term
from crypto import CodenameError, check_codename, holds_codename

MAX_MESSAGE_CHARS = 200_000


def _check_codename(_form: FlaskForm, field: Any) -> None:
    try:
        check_codename(field.data or "")
    except CodenameError as exc:
        raise ValidationError(
            _l("Check your codename: a word or digit is mistyped or missing.")
        ) from exc


def _no_codename(_form: FlaskForm, field: Any) -> None:
    # Sealed in a report, a codename would be read wherever the report is (the review
    # workspace, an escalation packet): whoever read it could log in as the source.
    # Not in a field its length check refused (WTForms runs every validator): the look
    # normalises (NFKC, each U+FDFA 18 letters), and a megabyte of them took 0.8 s of CPU.
    if field.errors:
        return
    if holds_codename(field.data or ""):
        raise ValidationError(
            _l(
                "This is a codename. Never write your codename in a report: nobody needs"
                " it to read or answer you. Take it out and send again."
            )
        )


# The last choices built per language, with the taxonomy copy they came from
# (`app.settings.taxonomy` hands out the same copy until a term changes).
_CHOICES: dict[str, tuple[dict[str, list[Term]], dict[str, list[tuple[str, str]]]]] = {}


def _choices(taxonomy: dict[str, list[Term]], lang: str) -> dict[str, list[tuple[str, str]]]:
    """The form's choices for `taxonomy` in `lang`, built once per copy (read, never change)."""
    cached = _CHOICES.get(lang)
    if cached is not None and cached[0] is taxonomy:
        return cached[1]

    def label(term: Term) -> str:
        return term.label_ur if lang == "ur" else term.label_en

    blank = ("", str(_l("— not saying —")))
    built = {
        name: [blank] + [(t.code, label(t)) for t in taxonomy.get(name, [])]
        for name in ("agency", "province", "when")
    }
    built["complicity"] = [(t.code, label(t)) for t in taxonomy.get("complicity", [])]
    _CHOICES[lang] = (taxonomy, built)
    return built


class TermField(SelectField):
    """A choice among the taxonomy's terms, checked with one set lookup.

    WTForms' own check normalises every choice for every request; this gives the
    same answer (the value sent, coerced, is one of the choices offered).
    """

    def pre_validate(self, form: FlaskForm) -> None:
        """Refuse a value that is not among the choices offered."""
        if self.process_errors or not self.validate_choice or not isinstance(self.choices, list):
            super().pre_validate(form)
            return
        if self.data not in {self.coerce(choice[0]) for choice in self.choices}:
            message = getattr(self, "invalid_choice_message", None)
            raise ValidationError(message or self.gettext("Not a valid choice."))


class _TokenWhenShown:
    """A form's CSRF token, drawn and signed only when the form is shown (`str`)."""

    __slots__ = ("_draw",)

    def __init__(self, draw: Callable[[], str]) -> None:
        self._draw = draw

    def __str__(self) -> str:
        return self._draw()  # Flask-WTF's: the same token for the whole request


class _CSRFWhenShown(_FlaskFormCSRF):
    """Flask-WTF's form CSRF, but a form checked and never shown (a POST that redirects)
    signs no token for a page nobody renders. Checking is Flask-WTF's own, unchanged."""

    def generate_csrf_token(self, csrf_token_field: Any) -> _TokenWhenShown:
        """The token the form will show, signed when it is rendered."""
        sign = super().generate_csrf_token
        return _TokenWhenShown(lambda: str(sign(csrf_token_field)))


class SubmissionForm(FlaskForm):
    """A message and optional fields; files arrive beside it, sealed as they stream."""

    class Meta:
        csrf_class = _CSRFWhenShown

    # A one-time token, new with each form: the same form sent twice files once.
    # Hidden fields carry no label: given none, WTForms would translate a made-up one per request.
    once = HiddenField("", validators=[Length(max=64)])

    message = TextAreaField(
        _l("Your message"),
        validators=[
            Length(
                max=MAX_MESSAGE_CHARS,
                message=_l("Your message is too long: it can have at most %(max)d characters."),
            ),
            _no_codename,
        ],
    )
    agency = TermField(_l("Which agency or office?"), choices=[], validate_choice=True, default="")
    province = TermField(_l("Which province?"), choices=[], validate_choice=True, default="")
    district = StringField(
        _l("Which district, city or police station?"),
        [Length(max=120, message=_l("Keep this short: at most %(max)d characters.")), _no_codename],
    )
    when = TermField(_l("Roughly when?"), choices=[], validate_choice=True, default="")
    complicity = SelectMultipleField(
        _l("What did the officials do?"),
        choices=[],
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
    )

    def set_choices(self, taxonomy: dict[str, list[Term]], lang: str) -> None:
        """Offer the taxonomy's terms, labelled in the visitor's language."""
        choices = _choices(taxonomy, lang)
        for name in ("agency", "province", "when", "complicity"):
            getattr(self, name).choices = choices[name]

    def fields_for_report(self, taxonomy: dict[str, list[Term]]) -> dict[str, object]:
        """The chosen fields with their English labels, for the sealed report."""
        labels = {(g, t.code): t.label_en for g, terms in taxonomy.items() for t in terms}

        def pick(group: str, code: str) -> dict[str, str] | None:
            return {"code": code, "label": labels[(group, code)]} if code else None

        return {
            "agency": pick("agency", self.agency.data or ""),
            "province": pick("province", self.province.data or ""),
            "district": (self.district.data or "").strip() or None,
            "when": pick("when", self.when.data or ""),
            "complicity": [pick("complicity", c) for c in self.complicity.data or []],
        }


class NewSourceForm(SubmissionForm):
    """The first submission: it carries the codename shown on the same page."""

    codename = HiddenField(
        "",
        validators=[
            DataRequired(_l("The codename is missing. Reload the page to get a new one.")),
            _check_codename,
        ],
    )


class _TypedCodename:
    """A form whose codename is typed, and a mistyped one answered as a wrong one is."""

    codename: Any

    def mistyped(self) -> bool:
        """Say whether the codename typed cannot be one (a word or digit wrong or missing)."""
        try:
            check_codename(self.codename.data or "")
        except CodenameError:
            return True
        return False


class ResumeForm(_TypedCodename, SubmissionForm):
    """A later report whose login ended while it was written, sent again with the codename."""

    codename = TextAreaField(
        _l("Your codename"), validators=[DataRequired(_l("Write your codename."))]
    )


class LoginForm(_TypedCodename, FlaskForm):
    """Coming back with a codename: a mistyped one is answered as a wrong one (`mistyped`)."""

    # Eight words do not fit a one-line field on a phone: a small text area shows them all.
    codename = TextAreaField(
        _l("Your codename"), validators=[DataRequired(_l("Write your codename."))]
    )


class ActionForm(FlaskForm):
    """A button that changes something (log out, delete a reply): CSRF token only."""


# What the "Delete every reply" button names instead of one reply's id (ids are hex).
EVERY_REPLY = "every"


class DeleteReplyForm(ActionForm):
    """The button that deletes one reply, which it names in the body, never in the URL.

    A browser whose history keeps each address of a redirect chain could keep
    `/replies/<id>/delete`: a reply came, and, matched against a seized copy, which one.
    """

    # A reply's id, or `EVERY_REPLY` for all the source's replies at once.
    reply = HiddenField(validators=[DataRequired()])

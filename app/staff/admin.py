"""Admin pages: staff accounts, instance settings, keyring installs, the audit log."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final, TypeVar

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy.orm import Session
from wtforms import Field

from app import page_pacing
from app.db import db_session, transaction
from app.errors import AppError
from app.models import StaffAccount, today
from app.operations import keyring_admin
from app.operations.tor import owners
from app.operations.tor.clients import ClientError
from app.services import audit, settings_admin, staff, staff_admin
from app.settings import delayed_changes, taxonomy
from app.staff import auth, bp
from app.staff.admin_forms import (
    ActionForm,
    AuditFilterForm,
    CreateAccountForm,
    GeneralSettingsForm,
    KeyringInstallForm,
    MoveTermForm,
    RemoveAccountForm,
    ResourcesForm,
    RoleForm,
    TermForm,
    TermLabelsForm,
)
from app.staff.auth import admin_required, costs, current_staff
from app.staff.views import accepts_bundle
from app.taxonomy import GROUPS

AUDIT_PAGE_SIZE: Final = 50
_DEVICES: Final = _l(
    "%(devices)s can still reach the staff onion: revoke each on the server's console"
    " (raazdar staff-onion remove-client DEVICE, then systemctl reload raazdar)."
)
_REVOKED: Final = _l(
    "Revoked with the account: %(devices)s. The staff onion no longer lets them in."
)
_KNOWN: Final = _l(
    "%(name)s set the passwords of %(names)s, not changed since, and may have set up their"
    " authenticators: they are locked. Reset their two-factor to give each owner a new"
    " passphrase."
)
_HANDED: Final = _l(
    "%(name)s handed %(names)s the passphrase their authenticator was set up with, and no"
    " reset since: unless you know each owner set up their own, reset their two-factor."
)
_LOCKED_REVOKED: Final = _l(
    "%(name)s is locked: the keyring no longer lists the reviewer bound to it. Remove the"
    " account, or reset its two-factor once you know who holds it."
)
_LOCKED_SET_BY: Final = _l(
    "%(name)s is locked: %(set_by)s set its password, not changed since, and may have set up"
    " its authenticator. Reset its two-factor to give its owner a new passphrase."
)

R = TypeVar("R")


def _me() -> StaffAccount:
    account = current_staff()
    if account is None:  # admin_required has already sent such a visitor to the login page
        abort(403)
    return account


def _attempt(action: Callable[[Session], R]) -> R | AppError:
    """Run `action` in one transaction; return its result, or the refusal it raised.

    It runs only while the administrator is still one (`staff.hold_admin`): one
    removed, demoted or reset since the request came in gets a 403, nothing done.
    """
    me = _me()
    try:
        with transaction() as session:
            staff.hold_admin(session, me)
            return action(session)
    except staff.NoLongerAdmin:
        auth.reload()
        abort(403)
    except (
        staff_admin.AccountError,
        ClientError,
        settings_admin.SettingsError,
        keyring_admin.KeyringInstallError,
    ) as exc:
        return exc


def _done(message: str, endpoint: str) -> ResponseReturnValue:
    flash(message, "ok")
    return redirect(url_for(endpoint), code=303)


def _refuse(field: Field, message: str) -> None:
    """Show a service's refusal under the field it concerns (after validation ran)."""
    field.errors = [*field.errors, message]


def _form_errors(form: FlaskForm) -> str:
    return " ".join(str(e) for errors in form.errors.values() for e in errors)


# Accounts.


def _accounts_page(
    *,
    create_form: CreateAccountForm | None = None,
    shown: staff_admin.NewPassphrase | None = None,
    error: str | None = None,
    status: int = 200,
) -> ResponseReturnValue:
    page = render_template(
        "staff/admin/accounts.html",
        accounts=staff_admin.list_accounts(db_session()),
        roles=staff_admin.ROLES,
        create_form=create_form or CreateAccountForm(formdata=None),
        action_form=ActionForm(formdata=None),
        shown=shown,
        error=error,
        me=_me(),
        resets=staff.recent_resets(db_session(), today()),
        changes=audit.recent_changes(db_session(), "accounts", today()),
    )
    return page, status


@bp.get("/admin/accounts")
@admin_required
def admin_accounts() -> ResponseReturnValue:
    """List the staff accounts, with the form to add one."""
    return _accounts_page()


@bp.post("/admin/accounts/new")
@admin_required
def admin_account_create() -> ResponseReturnValue:
    """Create an account and show its generated passphrase, once."""
    form = CreateAccountForm()
    if not form.validate_on_submit():
        return _accounts_page(create_form=form, status=400)
    me = _me()
    result = _attempt(
        lambda s: staff_admin.create(s, form.username.data or "", form.role.data or "", actor=me)
    )
    if isinstance(result, AppError):
        _refuse(form.username, str(result))
        return _accounts_page(create_form=form, status=result.status)
    # Shown in this response only: never put in a flash message or the session.
    return _accounts_page(shown=result)


@bp.post("/admin/accounts/<account_id>/remove")
@admin_required
@costs(0)  # how the others stop a flooding account: never paced
def admin_account_remove(account_id: str) -> ResponseReturnValue:
    """Remove an account, once the confirmation box is ticked."""
    form = RemoveAccountForm()
    if not form.validate_on_submit():
        return _accounts_page(error=_form_errors(form), status=400)
    me = _me()
    result = _attempt(lambda s: staff_admin.remove(s, account_id, actor=me))
    if isinstance(result, AppError):
        return _accounts_page(error=str(result), status=result.status)
    if result.known:
        flash(_KNOWN % {"name": result.username, "names": ", ".join(result.known)}, "warn")
    # Neither locked nor named above: she may have set them up, then changed the password.
    handed = staff.second_factors_handed_by(db_session(), result.username)
    if handed:
        flash(_HANDED % {"name": result.username, "names": ", ".join(handed)}, "warn")
    if result.devices:
        flash(_REVOKED % {"devices": ", ".join(result.devices)}, "warn")
    # A device added for nobody, or one whose key could not be moved aside, is a gate of
    # its own: removing the account leaves it open.
    devices = owners.still_reaching(db_session(), owners.instance_clients(), result.username)
    if devices:
        flash(_DEVICES % {"devices": ", ".join(devices)}, "warn")
    elif not result.devices:
        flash(
            _(
                "Their devices still reach the staff onion until revoked: see %(command)s "
                "on the server's console.",
                command="raazdar staff-onion list",
            ),
            "warn",
        )
    return _done(
        _("The account %(name)s was removed.", name=result.username), "staff.admin_accounts"
    )


@bp.post("/admin/accounts/<account_id>/reset-password")
@admin_required
def admin_account_reset_password(account_id: str) -> ResponseReturnValue:
    """Give an account a new generated passphrase (shown once) and end its sessions."""
    if not ActionForm().validate_on_submit():
        return _accounts_page(error=_("The form expired: reload the page."), status=400)
    me = _me()
    result = _attempt(lambda s: staff_admin.reset_password(s, account_id, actor=me))
    if isinstance(result, AppError):
        return _accounts_page(error=str(result), status=result.status)
    return _accounts_page(shown=result)


@bp.post("/admin/accounts/<account_id>/reset-2fa")
@admin_required
@costs(0)  # how the others stop a flooding account: never paced
def admin_account_reset_2fa(account_id: str) -> ResponseReturnValue:
    """Make an account enrol its second factor again, with a new passphrase (shown once)."""
    if not ActionForm().validate_on_submit():
        return _accounts_page(error=_("The form expired: reload the page."), status=400)
    me = _me()
    result = _attempt(lambda s: staff_admin.reset_second_factor(s, account_id, actor=me))
    if isinstance(result, AppError):
        return _accounts_page(error=str(result), status=result.status)
    # The old password would enrol whoever had it too: only the new one, handed over, does.
    return _accounts_page(shown=result)


@bp.post("/admin/accounts/<account_id>/role")
@admin_required
def admin_account_role(account_id: str) -> ResponseReturnValue:
    """Make an account staff or admin."""
    form = RoleForm()
    if not form.validate_on_submit():
        return _accounts_page(error=_form_errors(form), status=400)
    me = _me()
    role = form.role.data or ""
    result = _attempt(lambda s: staff_admin.change_role(s, account_id, role, actor=me))
    if isinstance(result, AppError):
        return _accounts_page(error=str(result), status=result.status)
    return _done(_("%(name)s is now %(role)s.", name=result, role=role), "staff.admin_accounts")


# Settings.


def _settings_page(
    *,
    general: GeneralSettingsForm | None = None,
    resources: ResourcesForm | None = None,
    status: int = 200,
) -> ResponseReturnValue:
    session = db_session()
    values = settings_admin.current(session)
    page = render_template(
        "staff/admin/settings.html",
        delayed=delayed_changes(session),
        text_changes=settings_admin.text_changes(session, ("resources_en", "resources_ur")),
        general=general or GeneralSettingsForm(formdata=None, data=values),
        resources=resources or ResourcesForm(formdata=None, data=values),
        resources_reviewed=bool(values["resources_reviewed"]),
        changes=audit.recent_changes(session, "settings", today()),
    )
    return page, status


def _save(form: FlaskForm) -> bool:
    """Save a settings form's fields; put a refusal on the field it concerns."""
    changes = {f.name: f.data for f in form if f.name != "csrf_token"}
    me = _me()
    result = _attempt(lambda s: settings_admin.update(s, changes, actor=me.username))
    if isinstance(result, settings_admin.SettingsError):
        field = form._fields.get(result.field)
        if field is not None:
            _refuse(field, str(result))
        else:
            form.form_errors.append(str(result))
        return False
    return True


@bp.get("/admin/settings")
@admin_required
def admin_settings() -> ResponseReturnValue:
    """The instance settings: name, limits, retention, the resources page."""
    return _settings_page()


@bp.post("/admin/settings/general")
@admin_required
def admin_settings_general() -> ResponseReturnValue:
    """Save the name, the upload limit and the retention periods."""
    form = GeneralSettingsForm()
    if form.validate_on_submit() and _save(form):
        return _done(_("Settings saved."), "staff.admin_settings")
    return _settings_page(general=form, status=400)


@bp.post("/admin/settings/resources")
@admin_required
def admin_settings_resources() -> ResponseReturnValue:
    """Save the resources page in both languages."""
    form = ResourcesForm()
    if form.validate_on_submit() and _save(form):
        return _done(_("The resources page was saved."), "staff.admin_settings")
    return _settings_page(resources=form, status=400)


# Taxonomy.


def _taxonomy_page(
    *, error: str | None = None, adding: tuple[str, TermForm] | None = None, status: int = 200
) -> ResponseReturnValue:
    page = render_template(
        "staff/admin/taxonomy.html",
        groups=GROUPS,
        terms=taxonomy(db_session()),
        label_changes=settings_admin.label_changes(db_session()),
        removed=settings_admin.removed_terms(db_session()),
        changes=audit.recent_changes(db_session(), "taxonomy", today()),
        action_form=ActionForm(formdata=None),
        adding=adding,
        error=error,
    )
    return page, status


def _taxonomy_change(action: Callable[[Session], Any], message: str) -> ResponseReturnValue:
    result = _attempt(action)
    if isinstance(result, AppError):
        return _taxonomy_page(error=str(result), status=result.status)
    return _done(message, "staff.admin_taxonomy")


@bp.get("/admin/taxonomy")
@admin_required
@costs(page_pacing.STAFF_TAXONOMY_TURNS)
def admin_taxonomy() -> ResponseReturnValue:
    """The choices the submission form offers, by group."""
    return _taxonomy_page()


@bp.post("/admin/taxonomy/<group>/add")
@admin_required
def admin_term_add(group: str) -> ResponseReturnValue:
    """Add a term at the end of a group."""
    form = TermForm()
    me = _me()
    if form.validate_on_submit():
        result = _attempt(
            lambda s: settings_admin.add_term(
                s,
                group,
                form.code.data or "",
                form.label_en.data or "",
                form.label_ur.data or "",
                actor=me.username,
            )
        )
        if not isinstance(result, AppError):
            return _done(
                _("Added %(code)s to %(group)s.", code=form.code.data, group=group),
                "staff.admin_taxonomy",
            )
        return _taxonomy_page(error=str(result), adding=(group, form), status=result.status)
    return _taxonomy_page(error=_form_errors(form), adding=(group, form), status=400)


@bp.post("/admin/taxonomy/<group>/<code>/labels")
@admin_required
def admin_term_labels(group: str, code: str) -> ResponseReturnValue:
    """Change a term's labels."""
    form = TermLabelsForm()
    if not form.validate_on_submit():
        return _taxonomy_page(error=_form_errors(form), status=400)
    me = _me()
    en, ur = form.label_en.data or "", form.label_ur.data or ""
    return _taxonomy_change(
        lambda s: settings_admin.relabel_term(s, group, code, en, ur, actor=me.username),
        _("Saved the labels of %(code)s.", code=code),
    )


@bp.post("/admin/taxonomy/<group>/<code>/remove")
@admin_required
def admin_term_remove(group: str, code: str) -> ResponseReturnValue:
    """Remove a term from a group."""
    if not ActionForm().validate_on_submit():
        return _taxonomy_page(error=_("The form expired: reload the page."), status=400)
    me = _me()
    return _taxonomy_change(
        lambda s: settings_admin.remove_term(s, group, code, actor=me.username),
        _("Removed %(code)s from %(group)s.", code=code, group=group),
    )


@bp.post("/admin/taxonomy/<group>/<code>/move")
@admin_required
def admin_term_move(group: str, code: str) -> ResponseReturnValue:
    """Move a term up or down within its group."""
    form = MoveTermForm()
    if not form.validate_on_submit():
        return _taxonomy_page(error=_form_errors(form), status=400)
    me = _me()
    direction = form.direction.data or ""
    return _taxonomy_change(
        lambda s: settings_admin.move_term(s, group, code, direction, actor=me.username),
        _("Moved %(code)s %(direction)s.", code=code, direction=direction),
    )


# Keyring.


def _keyring_page(form: KeyringInstallForm | None = None, status: int = 200) -> ResponseReturnValue:
    page = render_template(
        "staff/admin/keyring.html",
        keyring=keyring_admin.describe(),
        form=form or KeyringInstallForm(formdata=None),
        warning_days=keyring_admin.EXPIRY_WARNING_DAYS,
        changes=audit.recent_changes(db_session(), "keyring", today()),
    )
    return page, status


@bp.get("/admin/keyring")
@admin_required
def admin_keyring() -> ResponseReturnValue:
    """The manifest in force, the chain to it, and the form to install a successor."""
    return _keyring_page()


@bp.post("/admin/keyring/install")
@admin_required
@accepts_bundle
def admin_keyring_install() -> ResponseReturnValue:
    """Install a successor manifest, if the authorities signed it as crypto's rules require."""
    form = KeyringInstallForm()
    if not form.validate_on_submit():
        return _keyring_page(form, 400)
    me = _me()
    data = form.manifest_bytes()
    result = _attempt(lambda s: keyring_admin.install(s, data, actor=me.username))
    if isinstance(result, AppError):
        from app.services.refusals import keyring_refusal

        refusal = keyring_refusal(result)
        _refuse(form.manifest, f"{refusal.error[:1].upper()}{refusal.error[1:]}. {refusal.hint}.")
        return _keyring_page(form, result.status)
    _say_locked(result.locked, result.devices)
    return _done(
        _(
            "Keyring version %(version)d is in force (it replaced version %(previous)d): "
            "new reports are sealed to its %(reviewers)d reviewer(s).",
            version=result.version,
            previous=result.previous,
            reviewers=result.reviewers,
        ),
        "staff.admin_keyring",
    )


def _say_locked(locked: tuple[tuple[str, str | None], ...], revoked: dict[str, list[str]]) -> None:
    """Name each account an install locked, the devices revoked with it, and those called
    after it but added for nobody (or added for it and not revoked: `owners.still_reaching`).

    As the console's install does: a device added for nobody stays a gate of its own,
    and reaches the login page until revoked, which only the console does.
    """
    tor = owners.instance_clients()
    for name, set_by in locked:
        if set_by is None:
            flash(_LOCKED_REVOKED % {"name": name}, "warn")
        else:
            flash(_LOCKED_SET_BY % {"name": name, "set_by": set_by}, "warn")
        if revoked.get(name):
            flash(_REVOKED % {"devices": ", ".join(revoked[name])}, "warn")
        devices = owners.still_reaching(db_session(), tor, name)
        if devices:
            flash(_DEVICES % {"devices": ", ".join(devices)}, "warn")


# Audit log.


@bp.get("/admin/audit")
@admin_required
@costs(page_pacing.STAFF_PAGE_TURNS)
def admin_audit() -> ResponseReturnValue:
    """The audit log, newest first, and whether its hash chain is whole."""
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    form = AuditFilterForm(formdata=request.args)
    action, actor = form.action.data or None, form.actor.data or None
    session = db_session()
    form.offer(*audit.names(session))
    shown = audit.entries(
        session,
        limit=AUDIT_PAGE_SIZE + 1,
        offset=(page - 1) * AUDIT_PAGE_SIZE,
        action=action,
        actor=actor,
    )
    return render_template(
        "staff/admin/audit.html",
        entries=shown[:AUDIT_PAGE_SIZE],
        page=page,
        more=len(shown) > AUDIT_PAGE_SIZE,
        check=audit.verify(session),
        form=form,
        wanted={"action": action, "actor": actor},
        filtered=action is not None or actor is not None,
    )

"""People's accounts (admins: all; editors: their area's operators) and one's own API tokens."""

from __future__ import annotations

from flask_smorest import Blueprint

from broadcast.db.models import Role, Structure
from broadcast.services import account_admin, api_tokens, areas, user_email
from broadcast.web.api.account_schemas import (
    AccountChangeSchema,
    AccountCreateSchema,
    AccountSchema,
    ApiTokenCreateSchema,
    ApiTokenIssuedSchema,
    ApiTokenSchema,
    OwnAccountChangeSchema,
    TemporaryPasswordSchema,
)
from broadcast.web.auth import login_required, role_required, signed_in_user
from broadcast.web.context import db

blp = Blueprint("accounts", __name__, url_prefix="/api/v1", description="Accounts and personal API tokens")
MANAGERS = (Role.EDITOR,)  # and admins, who hold every role


def _area(code: str | None):
    return areas.find_area(db(), code, structure=Structure.CURRENT) if code else None


@blp.route("/users")
@blp.response(200, AccountSchema(many=True))
@role_required(*MANAGERS)
def list_users():
    """Everyone for an admin, their area's commune operators for an editor, with when each last logged in."""
    return account_admin.managed_users(db(), signed_in_user())


@blp.route("/users", methods=["POST"])
@blp.arguments(AccountCreateSchema)
@blp.response(201, TemporaryPasswordSchema)
@role_required(*MANAGERS)
def create_user(data):
    """Make an account with a temporary password, answered this once; the person changes it at first login."""
    made = account_admin.create(db(), signed_in_user(), username=data["username"], role=data["role"],
                                scope_area=_area(data["scope"]), full_name=data["full_name"], email=data["email"])
    return {"user": made.user, "temporary_password": made.temporary_password}


@blp.route("/users/<int:user_id>")
@blp.response(200, AccountSchema)
@role_required(*MANAGERS)
def get_user(user_id: int):
    return account_admin.get_managed(db(), signed_in_user(), user_id)


@blp.route("/users/<int:user_id>", methods=["PATCH"])
@blp.arguments(AccountChangeSchema)
@blp.response(200, AccountSchema)
@role_required(*MANAGERS)
def change_user(data, user_id: int):
    """Change the role, area, name or e-mail address; it applies at the person's next request."""
    actor = signed_in_user()
    user = account_admin.get_managed(db(), actor, user_id)
    changes = {"role": data.get("role"), "full_name": data.get("full_name")}
    if "scope" in data:
        changes["scope_area"] = _area(data["scope"])
    if "email" in data:
        changes["email"] = data["email"]
    return account_admin.update(db(), actor, user, **changes)


@blp.route("/users/<int:user_id>/deactivate", methods=["POST"])
@blp.response(200, AccountSchema)
@role_required(*MANAGERS)
def deactivate_user(user_id: int):
    """Switch the account off: its sessions end and its API tokens are revoked at once."""
    actor = signed_in_user()
    return account_admin.deactivate(db(), actor, account_admin.get_managed(db(), actor, user_id))


@blp.route("/users/<int:user_id>/reactivate", methods=["POST"])
@blp.response(200, AccountSchema)
@role_required(*MANAGERS)
def reactivate_user(user_id: int):
    actor = signed_in_user()
    return account_admin.reactivate(db(), actor, account_admin.get_managed(db(), actor, user_id))


@blp.route("/users/<int:user_id>/password-reset", methods=["POST"])
@blp.response(200, TemporaryPasswordSchema)
@role_required(*MANAGERS)
def reset_password(user_id: int):
    """A temporary password, answered this once, that the person must change at their next login; their
    sessions end."""
    actor = signed_in_user()
    user = account_admin.get_managed(db(), actor, user_id)
    return {"user": user, "temporary_password": account_admin.reset_password(db(), actor, user)}


@blp.route("/account", methods=["PATCH"])
@blp.arguments(OwnAccountChangeSchema)
@blp.response(200, AccountSchema)
@login_required
def change_own_account(data):
    """Set or remove your own e-mail address (as on the account page); audited."""
    user = signed_in_user()
    user_email.change_own(db(), user, data["email"])
    return user


@blp.route("/account/tokens")
@blp.response(200, ApiTokenSchema(many=True))
@login_required
def list_tokens():
    """Your personal API tokens, newest first; only each one's prefix is shown."""
    return api_tokens.tokens_of(db(), signed_in_user())


@blp.route("/account/tokens", methods=["POST"])
@blp.arguments(ApiTokenCreateSchema)
@blp.response(201, ApiTokenIssuedSchema)
@login_required
def create_token(data):
    """A new personal API token (send it as ``Authorization: Bearer ut_…``), answered this once."""
    issued = api_tokens.issue(db(), signed_in_user(), data["name"], days=data["days"])
    issued.row.token = issued.token  # on this answer's object only: never stored
    return issued.row


@blp.route("/account/tokens/<int:token_id>", methods=["DELETE"])
@blp.response(204)
@login_required
def revoke_token(token_id: int):
    user = signed_in_user()
    api_tokens.revoke(db(), user, token_id, actor=user)

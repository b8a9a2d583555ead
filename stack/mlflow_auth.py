"""MLflow's basic auth plus the champion rule, as the auth app's `authorization_function`.

MLflow's permissions are per registered model, and the same level (EDIT: "update") both creates
versions and sets aliases, so they cannot let the trainer register versions yet keep it off
`champion`. This function runs first on every request to the tracking server: it authenticates as
MLflow's own basic auth does, then refuses to set or delete a protected alias (`champion`) unless
the caller is an admin or one of the reviewers named in the auth config:

    [medvie]
    protected_aliases = champion
    reviewers = reviewer

The refusal is MLflow's own error shape (403, PERMISSION_DENIED), so every client sees it as such.
"""

from __future__ import annotations

import configparser
import functools
import json
import os

from flask import Response, request

ALIAS_ROUTE_SUFFIX = "/registered-models/alias"


@functools.cache
def rules() -> tuple[frozenset[str], frozenset[str]]:
    """(protected aliases, reviewers) from the [medvie] section of the auth config."""
    cfg = configparser.ConfigParser()
    cfg.read(os.environ.get("MLFLOW_AUTH_CONFIG_PATH", ""))
    section = cfg["medvie"] if cfg.has_section("medvie") else {}

    def names(key: str, default: str) -> frozenset[str]:
        return frozenset(n.strip() for n in section.get(key, default).split(",") if n.strip())

    return names("protected_aliases", "champion"), names("reviewers", "")


def requested_alias() -> str | None:
    """The alias a set/delete-alias request names, or None for any other request."""
    if not request.path.endswith(ALIAS_ROUTE_SUFFIX) or request.method not in ("POST", "DELETE", "PATCH"):
        return None
    body = request.get_json(silent=True) or {}
    return str(body.get("alias") or request.args.get("alias") or "")


def may_move(username: str, alias: str) -> bool:
    protected, reviewers = rules()
    return alias not in protected or username in reviewers or is_admin(username)


def is_admin(username: str) -> bool:
    from mlflow.server.auth import store

    try:
        return bool(store.get_user(username).is_admin)
    except Exception:  # an unknown user is no admin
        return False


def denied(username: str, alias: str) -> Response:
    _, reviewers = rules()
    message = (
        f"user '{username}' may not move alias '{alias}': only reviewers "
        f"({', '.join(sorted(reviewers)) or 'none configured'}) or an admin may"
    )
    body = json.dumps({"error_code": "PERMISSION_DENIED", "message": message})
    return Response(body, status=403, mimetype="application/json")


def authenticate():
    from mlflow.server.auth import authenticate_request_basic_auth

    auth = authenticate_request_basic_auth()
    if isinstance(auth, Response):
        return auth
    alias = requested_alias()
    if alias and not may_move(auth.username, alias):
        return denied(auth.username, alias)
    return auth

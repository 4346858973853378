"""What every role of the cutover shares: the one-line step failure, the other side, the logins."""

from __future__ import annotations

import os

from aurora_cutover.config import Credentials, CredentialSource, resolve
from aurora_cutover.cutover.context import Context


class StepFailed(Exception):
    """A step's own refusal, one line naming the object."""


OTHER = {"source": "target", "target": "source"}

# --------------------------------------------------------------------------- logins


def lab_or_configured(ctx: Context, configured: CredentialSource | None, lab_secret: str, key: str) -> Credentials:
    """A configured login, or in the lab (emulated AWS) the lab's secret; never printed."""
    src = configured
    if src is None and ctx.m.aws.endpoint_url:
        src = CredentialSource(secret_id=lab_secret)
    if src is None:
        raise StepFailed(f"{key}: missing — needed for this step")
    return resolve(key, src, ctx.m.aws, os.environ)


def app_login(ctx: Context) -> Credentials:
    if ctx.m.application.login is not None:
        return ctx.m.application.login
    return lab_or_configured(ctx, ctx.m.application.credentials, "lab/app", "application.credentials")

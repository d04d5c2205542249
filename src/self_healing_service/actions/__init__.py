"""The action catalogue: small, typed, idempotent actions, each dry-run first."""

from self_healing_service.actions.catalogue import CATALOGUE, Action, ActionResult, DrainFailed

__all__ = ["CATALOGUE", "Action", "ActionResult", "DrainFailed"]

"""The MLflow model registry: register evaluated models with their prompt recipe, gate `champion`,
promote and roll back (all alias moves: `medvie.registry.promotion`)."""

from medvie.registry.promotion import (
    gate_and_promote,
    latest_event,
    list_versions,
    promote,
    rollback,
    run_action,
)

__all__ = ["gate_and_promote", "latest_event", "list_versions", "promote", "rollback", "run_action"]

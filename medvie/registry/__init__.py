"""The MLflow model registry: register evaluated models, gate `champion`, promote and roll back."""

from medvie.registry.promotion import gate_and_promote, list_versions, promote, rollback

__all__ = ["gate_and_promote", "list_versions", "promote", "rollback"]

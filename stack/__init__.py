"""The team stack on one host: PostgreSQL, an MLflow server with basic auth, a Prefect server with a
process work pool and worker, a DVC remote. `python -m stack up|down|status`; docs/team.md says how.

Stack code may use Prefect and DVC; the library `medvie/` still imports neither.
"""

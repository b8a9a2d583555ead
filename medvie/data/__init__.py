"""Report records: the user layout, the synthetic generator, ingestion and validation."""

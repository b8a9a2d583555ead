"""Diversity sampling of the training records (k-center greedy on cheap image, label and metadata
features)."""

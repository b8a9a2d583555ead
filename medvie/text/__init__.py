"""Text of a document: its text layer (synthetic data) or OCR output, and prompt hints made from it."""

from medvie.text.store import format_hints, load_text, ocr_records

__all__ = ["format_hints", "load_text", "ocr_records"]

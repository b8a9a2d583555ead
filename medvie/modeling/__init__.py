"""Model factory: the tiny Qwen2.5-VL, loading any Qwen2(.5)-VL checkpoint, batched generation.

Attributes are resolved lazily (torch/transformers take seconds to import and `medvie.settings`
imports this package for its config). Touching `load`, `generate` or `register_processor`
registers the torchvision-free Qwen2.5-VL processor with `AutoProcessor`.
"""

from __future__ import annotations

from typing import Any

__all__ = ["load", "generate", "register_processor", "build_tiny", "save_tiny", "TinySpec", "resolve_base"]

_WHERE = {
    "load": "loading",
    "generate": "loading",
    "resolve_base": "loading",
    "register_processor": "processor",
    "build_tiny": "tiny",
    "save_tiny": "tiny",
    "TinySpec": "tiny",
}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        import importlib

        module = importlib.import_module(f"medvie.modeling.{_WHERE[name]}")
        return getattr(module, name)
    raise AttributeError(f"module 'medvie.modeling' has no attribute {name!r}")

"""fastka: a keepalived-compatible high-availability daemon with native hot paths.

``fastka.backend`` is ``"native"`` when the compiled core is loaded and ``"python"``
when the pure-Python twins run instead (``FASTKA_NO_EXTENSIONS=1`` forces them).
"""

from __future__ import annotations

import os
from types import ModuleType
from typing import Optional

__version__ = "0.1.0"


def extensions_disabled() -> bool:
    return os.environ.get("FASTKA_NO_EXTENSIONS", "").strip().lower() not in ("", "0", "no", "false")


def _load_native() -> tuple[Optional[ModuleType], Optional[str]]:
    if extensions_disabled():
        return None, "disabled by FASTKA_NO_EXTENSIONS"
    try:
        from ._native import native
    except ImportError as e:  # a build without compiler, or a broken install
        return None, f"cannot import the native core: {e}"
    return native, None


native, backend_reason = _load_native()
backend = "native" if native is not None else "python"

__all__ = ["__version__", "backend", "backend_reason", "native"]

"""The console's control token, kept beside the journal so it survives a restart.

Every open console tab keeps working when ``clicker serve`` restarts on the same journal; the
file (``<journal>.token``) is the owner's alone (mode 0600), like the journal it sits beside.
``clicker serve --new-token`` replaces it: every console must then be opened with the new URL.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

MIN_LENGTH = 24


def token_path(db: str | Path) -> Path:
    db = Path(db)
    return db.with_name(db.name + ".token")


def _write(path: Path, token: str) -> None:
    """Atomically, created 0600 (never readable by others, not even for a moment)."""
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as f:
        f.write(token + "\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def control_token(db: str | Path, new: bool = False) -> str:
    """The token kept beside the journal ``db``; a fresh one when there is none, when it is
    unusable, or with ``new``."""
    path = token_path(db)
    if not new:
        try:
            token = path.read_text(encoding="ascii").strip()
        except (FileNotFoundError, UnicodeDecodeError):
            token = ""
        if len(token) >= MIN_LENGTH and token.isascii() and token.isprintable() and " " not in token:
            if path.stat().st_mode & 0o077:
                os.chmod(path, 0o600)  # copied with looser rights: the owner's alone again
            return token
    token = secrets.token_urlsafe(24)
    _write(path, token)
    return token

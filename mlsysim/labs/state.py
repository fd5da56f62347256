"""0.1.0's Design Ledger: what a student decided in one lab, kept for the next (a JSON file under
``~/.mlsys``). A lab reads an earlier chapter's design with ``get_design`` and records its own with ``save``."""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any


@dataclass
class LedgerState:
    """What the ledger file holds: the chosen track, the current chapter, and each chapter's design."""

    track: str | None = None
    current_chapter: int = 0
    history: dict[int, dict[str, Any]] = field(default_factory=dict)
    last_updated: str = ""


class DesignLedger:
    """The ledger file (default ``~/.mlsys/ledger.json``); a missing or unreadable file is a fresh start."""

    def __init__(self, path: str | Path | None = None):
        self.file_path = Path(path) if path else Path.home() / ".mlsys" / "ledger.json"
        self._state = LedgerState()
        self.load()

    def load(self) -> LedgerState:
        try:
            data = json.loads(self.file_path.read_text(encoding="utf-8"))
            history = data.get("history") or {}
            if isinstance(history, list):           # the older list form: [{"chapter": n, "design": {...}}]
                history = {entry.get("chapter", 0): entry.get("design", {}) for entry in history}
            data["history"] = {int(k) if str(k).isdigit() else k: v for k, v in history.items()}
            self._state = LedgerState(**{k: v for k, v in data.items() if k in LedgerState.__dataclass_fields__})
        except (OSError, ValueError, TypeError, AttributeError):
            self._state = LedgerState()
        return self._state

    def save(self, track: str | None = None, chapter: int | None = None, design: dict | None = None) -> None:
        """Record the track, move to ``chapter``, and store ``design`` under it; then write the file."""
        if track:
            self._state.track = track
        if chapter is not None:
            self._state.current_chapter = chapter
        if design:
            self._state.history[self._state.current_chapter if chapter is None else chapter] = design
        self._state.last_updated = datetime.now(timezone.utc).isoformat(timespec="seconds")
        self.file_path.parent.mkdir(parents=True, exist_ok=True)
        self.file_path.write_text(json.dumps(asdict(self._state), indent=2), encoding="utf-8")

    def get_design(self, chapter_id: int) -> dict[str, Any] | None:
        return self._state.history.get(chapter_id)

    def get_track(self) -> str:
        return self._state.track or "NONE"

    def __repr__(self) -> str:
        return f"DesignLedger(track={self._state.track}, ch={self._state.current_chapter})"

"""0.1.0's ``TraceableConstant``: a float that carries where it comes from, for teaching material that
renders an assumption next to its source."""
from __future__ import annotations


class TraceableConstant(float):
    """A float in every calculation; ``name``, ``description``, ``citation`` and ``url`` ride along."""

    def __new__(cls, value, name: str, description: str, citation: str, url: str | None = None):
        obj = super().__new__(cls, value)
        obj.name, obj.description, obj.citation, obj.url = name, description, citation, url
        return obj

    def render_markdown(self) -> str:
        """The assumption, its meaning and its source as a Markdown block."""
        source = f"[{self.citation}]({self.url})" if self.url else self.citation
        return f"**Assumption: {self.name}** = `{float(self)}`\n\n_{self.description}_\n\n> **Source:** {source}"

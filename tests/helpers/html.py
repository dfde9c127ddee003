"""Reading pages the way a person does: the text, not the markup."""
from __future__ import annotations

import re


def text_of(html: str) -> str:
    """Visible text, roughly: tags dropped, whitespace folded."""
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


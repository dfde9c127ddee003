"""The last word on a message's HTML (app/chat/markdown.py renders it, then this cleans it): nh3,
Rust's ammonia, keeps only these tags, attributes, classes and URL schemes. A mistake in a rule of
ours or in the parser cannot put anything else on a page."""
from __future__ import annotations

import nh3
from pygments.token import STANDARD_TYPES

TAGS = {"p", "strong", "em", "del", "s", "code", "pre", "blockquote", "ul", "ol", "li", "a", "bdi", "span",
        "div", "hr", "table", "thead", "tbody", "tr", "th", "td", "button"}
ATTRIBUTES = {"a": {"href"}, "span": {"data-user-id", "data-everyone"}, "ol": {"start"}, "div": {"data-code"},
              "button": {"data-copy-code", "hidden"}}
VALUES = {"bdi": {"dir": {"ltr"}}, "pre": {"tabindex": {"0"}}, "button": {"type": {"button"}}}
CLASSES = {"span": {"mention", "mention-you", "link-host", *filter(None, STANDARD_TYPES.values())},
           "div": {"code-block"}, "button": {"copy-code"}}
REL = "noopener noreferrer nofollow ugc"


def clean(html: str) -> str:
    """Only what is listed: any other tag is dropped (its text kept), any other attribute, class or
    scheme removed; links get rel and target."""
    return nh3.clean(html, tags=TAGS, attributes=ATTRIBUTES, tag_attribute_values=VALUES, allowed_classes=CLASSES,
                     url_schemes={"http", "https", "mailto"}, url_relative="deny", link_rel=REL,
                     set_tag_attribute_values={"a": {"target": "_blank"}}, strip_comments=True)

"""What a member actually wrote in an email reply: the text without the quoted history, the
reply header above it ("On Tue, Dana wrote:", "El mar., ... escribió:", "Am ... schrieb ...:")
and their signature.

Quoted lines (">") are dropped line by line, so words written above the quote, below it or
between its parts are all kept. The reply header right above a quote goes with it. History
that is not marked as a quote (Outlook's "From: / Sent:" block, "-----Original Message-----"),
signatures and "Sent from my iPhone" are found by mail-parser-reply in the languages members
write in. An HTML-only email is turned into text first, its quoted blocks (Gmail's
`div.gmail_quote`, Apple Mail's `blockquote type=cite`, Outlook's `divRplyFwdMsg` and
everything after it) dropped the same way.
"""

from __future__ import annotations

import re

from bs4 import BeautifulSoup, NavigableString, Tag
from mailparser_reply import EmailMessage, EmailReplyParser

# mail-parser-reply's languages that matter to members: headers and signatures in each.
LANGUAGES = ("en", "es", "de", "fr", "it", "nl", "pl", "sv", "da", "cs")
_parser = EmailReplyParser(languages=list(LANGUAGES))
_REPLY_HEADERS = EmailMessage(text="", languages=list(LANGUAGES)).HEADER_REGEX

QUOTE_MARK = ">"
# Where mail-parser-reply knows no reply header (it misses Spanish Gmail's "El ... escribió:"),
# a short paragraph right above a quote that ends in a colon and names a date or an address is one.
_HEADER_MAX = 400
_HEADER_HINT = re.compile(r"[\d@]")
_HEADER_LINES = 4
# Quoted blocks of HTML mail: dropped in place (words below them stay) ...
_HTML_QUOTES = "blockquote, div.gmail_quote, div.yahoo_quoted, div.moz-cite-prefix"
# ... and Outlook's reply header, after which everything is history.
_HTML_HISTORY = "#divRplyFwdMsg, #appendonsend, div.OutlookMessageHeader"
_BLOCKS = frozenset(
    {"p", "div", "li", "tr", "table", "h1", "h2", "h3", "h4", "h5", "h6", "pre", "hr", "ul", "ol", "section"}
)
_BLANK_RUNS = re.compile(r"\n{3,}")


def visible_text(text: str, html: str = "") -> str:
    """The member's own words in a reply: the text part, or the HTML part when there is no
    text, without quoted history and signature."""
    source = text if text.strip() else html_to_text(html)
    own = _without_quotes(source.replace("\r\n", "\n").replace("\r", "\n"))
    replies = _parser.read(own).replies
    latest = replies[0].body if replies else ""
    # The parser's signature rules can take a first line for one ("-Sam here: yes!"); the
    # member's words are worth more than a tidy signature.
    return (latest or own).strip()


def html_to_text(html: str) -> str:
    """The text of an HTML email, one line per block, quoted blocks replaced by one quoted line."""
    soup = BeautifulSoup(html, "html.parser")
    for tag in soup(["script", "style", "head", "title"]):
        tag.decompose()
    history = soup.select_one(_HTML_HISTORY)
    if history is not None:
        _drop_from(history)
    while (quote := soup.select_one(_HTML_QUOTES)) is not None:
        quote.replace_with(NavigableString(f"\n{QUOTE_MARK} ...\n"))
    for br in soup.find_all("br"):
        br.replace_with(NavigableString("\n"))
    for block in soup.find_all(_BLOCKS):
        block.insert_after(NavigableString("\n"))
    lines = (" ".join(line.split()) for line in soup.get_text().split("\n"))
    return _BLANK_RUNS.sub("\n\n", "\n".join(lines)).strip()


def _drop_from(node: Tag) -> None:
    """Remove `node` and everything after it in the document."""
    current: Tag | None = node
    while current is not None and current.name != "[document]":
        for sibling in list(current.next_siblings):
            sibling.extract()
        current = current.parent
    node.extract()


def _without_quotes(text: str) -> str:
    """`text` without its quoted lines and the reply header right above each quote; a blank
    line stands where a quote was, so words around it stay apart."""
    kept: list[str] = []
    in_quote = False
    for line in text.split("\n"):
        if line.lstrip().startswith(QUOTE_MARK):
            if not in_quote:
                _drop_reply_header(kept)
                kept.append("")
            in_quote = True
            continue
        in_quote = False
        kept.append(line)
    return "\n".join(kept)


def _drop_reply_header(kept: list[str]) -> None:
    """Remove the paragraph at the end of `kept` if it reads as a reply header."""
    end = len(kept)
    while end and not kept[end - 1].strip():
        end -= 1
    start = end
    while start and kept[start - 1].strip() and end - start < _HEADER_LINES:
        start -= 1
    lines = [line.strip() for line in kept[start:end]]
    known = _REPLY_HEADERS.search("\n".join(lines))
    if known is not None:
        del kept[start + "\n".join(lines)[: known.start()].count("\n") :]
        return
    paragraph = " ".join(lines)
    if paragraph.endswith((":", "：")) and len(paragraph) <= _HEADER_MAX and _HEADER_HINT.search(paragraph):
        del kept[start:]

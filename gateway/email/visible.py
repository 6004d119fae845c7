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
import secrets

from bs4 import BeautifulSoup, NavigableString, PageElement, Tag
from bs4.element import PreformattedString
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
_HEADER_GAP = 3  # blank lines between a reply header and its quote
# Quoted blocks of HTML mail, dropped in place (words below them stay): blockquotes, and ...
_QUOTE_CLASSES = frozenset({"gmail_quote", "yahoo_quoted", "moz-cite-prefix"})
# ... Outlook's reply header, after which everything is history.
_HISTORY_IDS = frozenset({"divRplyFwdMsg", "appendonsend"})
_INVISIBLE = frozenset({"script", "style", "head", "title"})
# A member's words come first or close to a quote; beyond this much of a part, it is history.
READ_MAX = 200_000
HTML_READ_MAX = 500_000  # HTML spends much of it on markup (Outlook's styles alone run long)
_BLOCKS = frozenset(
    {"p", "div", "li", "tr", "table", "h1", "h2", "h3", "h4", "h5", "h6", "pre", "hr", "ul", "ol", "section"}
)
_BLANK_RUNS = re.compile(r"\n{3,}")
# mail-parser-reply's patterns backtrack within a line, in time that grows with the square of
# its length or worse ("On On On ...": a second for 6,000 characters, over 20 for 40,000), so
# it reads at most PARSE_MAX characters of a reply, and no line longer than LINE_MAX (no reply
# header or signature is that long): such a line is shown to it as a placeholder, put back in
# what it returns.
PARSE_MAX = 20_000
LINE_MAX = 1_000


def visible_text(text: str, html: str = "") -> str:
    """The member's own words in a reply: the text part, or the HTML part when there is no
    text, without quoted history and signature."""
    source = (text if text.strip() else html_to_text(html))[:READ_MAX]
    own = _without_quotes(source.replace("\r\n", "\n").replace("\r", "\n"))
    # Runs of blank lines make the parser's signature patterns slow (they start with \s*).
    own = _BLANK_RUNS.sub("\n\n", "\n".join(line.rstrip() for line in own.split("\n")))
    read, long_lines = _for_the_parser(own)
    replies = _parser.read(read).replies
    if not replies:
        return own.strip()
    if len(own) > PARSE_MAX and len(replies) == 1 and not replies[0].headers:
        return own.strip()  # no history in what the parser read of it: all of it is theirs
    # The parser's signature rules can take a first line for one ("-Sam here: yes!"); the
    # member's words are worth more than a tidy signature.
    words = replies[0].body or replies[0].full_body
    for placeholder, line in long_lines.items():
        words = words.replace(placeholder, line)
    return words.strip()


def _for_the_parser(text: str) -> tuple[str, dict[str, str]]:
    """The start of `text` the parser reads (whole lines, PARSE_MAX characters at most), each
    line over LINE_MAX in it replaced by a placeholder; and each placeholder's line."""
    start = text[:PARSE_MAX]
    if len(text) > PARSE_MAX and "\n" in start:
        start = start[: start.rindex("\n")]
    mark = "kindred" + secrets.token_hex(8)  # in no member's text
    long_lines: dict[str, str] = {}
    lines = start.split("\n")
    for number, line in enumerate(lines):
        if len(line) > LINE_MAX:
            lines[number] = f"{mark}line{number}end"  # "line1" would also be the start of "line10"
            long_lines[lines[number]] = line.strip()  # as the parser strips each line
    return "\n".join(lines), long_lines


def html_to_text(html: str) -> str:
    """The text of an HTML email, one line per block, each quoted block as one quoted line."""
    soup = BeautifulSoup(html[:HTML_READ_MAX], "html.parser")
    out: list[str] = []
    stack: list[PageElement | str] = [soup]
    while stack:
        node = stack.pop()
        if isinstance(node, str) and not isinstance(node, NavigableString):
            out.append(node)  # a line break this walk put in
        elif isinstance(node, NavigableString):
            if not isinstance(node, PreformattedString):  # comments, doctypes and the like
                out.append(str(node))
        elif isinstance(node, Tag) and node.name not in _INVISIBLE:
            if _is_history(node):
                break  # Outlook's reply header: the rest of the document is history
            if _is_quote(node):
                out.append(f"\n{QUOTE_MARK} ...\n")
                continue
            if node.name == "br":
                out.append("\n")
                continue
            block = node.name in _BLOCKS
            stack.extend(["\n"] if block else [])
            stack.extend(reversed(node.contents))
            out.extend(["\n"] if block else [])
    lines = (" ".join(line.split()) for line in "".join(out).split("\n"))
    return _BLANK_RUNS.sub("\n\n", "\n".join(lines)).strip()


def _is_quote(tag: Tag) -> bool:
    return tag.name == "blockquote" or bool(_QUOTE_CLASSES.intersection(tag.get_attribute_list("class")))


def _is_history(tag: Tag) -> bool:
    return tag.get("id") in _HISTORY_IDS or "OutlookMessageHeader" in tag.get_attribute_list("class")


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
    while end > max(0, len(kept) - _HEADER_GAP) and not kept[end - 1].strip():
        end -= 1
    start = end
    while start and kept[start - 1].strip() and end - start < _HEADER_LINES:
        start -= 1
    while start < end and sum(len(line) for line in kept[start:end]) > _HEADER_MAX:
        start += 1  # a long line above the header is the member's, not part of it
    lines = [line.strip() for line in kept[start:end]]
    known = _REPLY_HEADERS.search("\n".join(lines))
    if known is not None:
        del kept[start + "\n".join(lines)[: known.start()].count("\n") :]
        return
    paragraph = " ".join(lines)
    if paragraph.endswith((":", "：")) and len(paragraph) <= _HEADER_MAX and _HEADER_HINT.search(paragraph):
        del kept[start:]

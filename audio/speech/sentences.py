"""Split long text at sentence boundaries, so engines get pieces they accept and a failure costs one piece."""

from __future__ import annotations

import re

# A sentence ends at . ! ? ; or … followed by white space (so "1.880" and "v.v" inside a word stay whole),
# with any closing quotes or brackets kept on the sentence they close; a line break always ends one.
_SENTENCE_END = re.compile(r"""(?<=[.!?;…])["'”’»)\]]*(?=\s)|\n""")
_CLAUSE_END = re.compile(r"(?<=[,:])(?=\s)")


def split_sentences(text: str, max_chars: int) -> list[str]:
    """The sentences of ``text``, stripped, none longer than ``max_chars``.

    A sentence longer than ``max_chars`` is cut at commas and colons, then between words, and as a last
    resort (one "word" longer than the limit) inside the word.
    """
    if max_chars < 1:
        raise ValueError("max_chars must be at least 1")
    pieces: list[str] = []
    for sentence in _split(text, _SENTENCE_END):
        if len(sentence) <= max_chars:
            pieces.append(sentence)
            continue
        clauses = _split(sentence, _CLAUSE_END)
        for clause in _pack(clauses, max_chars, " "):
            if len(clause) <= max_chars:
                pieces.append(clause)
            else:
                pieces.extend(_pack(_split_words(clause, max_chars), max_chars, " "))
    return pieces


def chunk_text(text: str, max_chars: int) -> list[str]:
    """Whole sentences packed greedily into chunks of at most ``max_chars``: as few engine calls as possible."""
    return _pack(split_sentences(text, max_chars), max_chars, "\n")


def _split(text: str, boundary: re.Pattern[str]) -> list[str]:
    parts: list[str] = []
    start = 0
    for match in boundary.finditer(text):
        parts.append(text[start : match.end()])
        start = match.end()
    parts.append(text[start:])
    return [part.strip() for part in parts if part.strip()]


def _split_words(text: str, max_chars: int) -> list[str]:
    words: list[str] = []
    for word in text.split():
        # A single token longer than the limit (a long URL, say) is cut, since nothing else can be.
        words.extend(word[i : i + max_chars] for i in range(0, len(word), max_chars))
    return words


def _pack(parts: list[str], max_chars: int, joiner: str) -> list[str]:
    packed: list[str] = []
    current = ""
    for part in parts:
        candidate = f"{current}{joiner}{part}" if current else part
        if len(candidate) <= max_chars or not current:
            current = candidate
        else:
            packed.append(current)
            current = part
    if current:
        packed.append(current)
    return packed

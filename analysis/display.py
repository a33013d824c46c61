"""Text measured in terminal display cells (``wcwidth``): a CJK character takes two cells, a Thai vowel mark or
a combining accent none, so tables and transcripts line up in ja/zh/ko/th as in en."""

from __future__ import annotations

ELLIPSIS = "…"
NO_LINE_START = set("、。，．,.!?！？：:；;」』）)]｝〉》ー々ゃゅょっャュョッ")
"""Characters a line in an unspaced script never starts with (Japanese kinsoku, simplified): the character
before goes down with it."""


def _char_cells(char: str) -> int:
    from wcwidth import wcwidth

    return max(wcwidth(char), 0)  # control characters (-1) take no cell once printed as text


def cells(text: str) -> int:
    """Display cells ``text`` takes in a terminal."""
    from wcwidth import wcswidth

    width = wcswidth(text)
    return width if width >= 0 else sum(_char_cells(c) for c in text)


def one_line(text: str) -> str:
    """A cell's text on one line: newlines become ``↵`` and tabs a space, so a row stays one row."""
    return text.replace("\r\n", "\n").replace("\n", "↵").replace("\t", " ")


def truncate(text: str, width: int) -> str:
    """``text`` cut to at most ``width`` cells, ending in an ellipsis when cut (combining marks stay with their
    base character)."""
    if cells(text) <= width:
        return text
    out, used = [], 0
    for char in text:
        w = _char_cells(char)
        if used + w > width - 1:
            break
        out.append(char)
        used += w
    return "".join(out) + ELLIPSIS


def pad(text: str, width: int, *, right: bool = False) -> str:
    """``text`` padded with spaces to ``width`` cells (right-aligned for numbers)."""
    fill = " " * max(width - cells(text), 0)
    return fill + text if right else text + fill


def wrap(text: str, width: int) -> list[str]:
    """Lines of at most ``width`` cells: breaks at spaces where there are some, and between characters in
    scripts written without them (ja, zh, th), never before a combining mark."""
    lines: list[str] = []
    for paragraph in text.replace("\r\n", "\n").split("\n"):
        line, used = "", 0
        for word in paragraph.split(" "):
            w = cells(word)
            gap = 1 if line else 0
            if used + gap + w <= width:
                line, used = line + " " * gap + word, used + gap + w
                continue
            if line and w <= width:
                lines.append(line)
                line, used = word, w
                continue
            if line:  # a long unspaced run: fill the current line first
                line, used = line + " ", used + 1
            for char in word:
                cw = _char_cells(char)
                if used + cw > width and cw > 0 and line.strip():  # zero-width marks stay with their base
                    carried = line[-1] if char in NO_LINE_START and len(line.strip()) > 1 else ""
                    lines.append(line[:len(line) - len(carried)].rstrip())
                    line, used = carried, cells(carried)
                line, used = line + char, used + cw
        lines.append(line.rstrip())
    return lines

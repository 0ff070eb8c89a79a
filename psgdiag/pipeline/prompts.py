"""Questions the console asked and the answers typed, read without knowing the language.

PowerShell's host prints a confirmation question as its caption, its text and one line of
choices, the typed answer after the colon:

    [Y] Yes  [A] Yes to All  [N] No  [L] No to All  [S] Suspend  [?] Help (default is "N"): Y

Every translation keeps the bracketed letters, the order of the choices and the trailing `[?]`
help choice (French `[O] Oui  [T] Oui pour tout ...`, Korean `[Y] 예(Y) ...`). The first choice
is Yes, and with four choices or more the second is Yes to All, so a typed letter can be read as
Yes or not whatever the words around it. The derived fact `prompt_accepted` holds the question
(the lines above the choices, up to a blank line) of each one answered Yes.
"""

from __future__ import annotations

from collections.abc import Sequence

from psgdiag import regexcode
from psgdiag.model import FactValue, Line

QUESTION_LINES = 6  # lines above the choices read as the question (caption and text)
# With four or more choices the second is Yes to All (Yes / Yes to All / No / No to All / Suspend,
# or Yes / Yes to All / Halt Command / Suspend); with three it is No.
YES_TO_ALL_FORM = 4

_CHOICES = regexcode.compile(
    r"^\s*(?P<choices>(?:\[[^\]\s?]{1,4}\][^\[\]]{1,60}?){2,8})\[\?\][^\[\]()]{0,40}"
    r"\((?P<default>[^()]{0,60})\)\s?:\s?(?P<answer>\S{0,8})\s*$"
)
_LETTER = regexcode.compile(r"\[([^\]\s?]{1,4})\]")


def accepted_questions(lines: Sequence[Line]) -> list[FactValue]:
    """The question of every choice prompt answered Yes, at the line of its choices."""
    out: list[FactValue] = []
    i = 0
    while i < len(lines):
        text, used = lines[i].text, 1
        if "[" in text and "[?]" not in text and i + 1 < len(lines) and "[?]" in lines[i + 1].text:
            text, used = f"{text} {lines[i + 1].text}", 2  # the choices wrapped by the console
        m = _CHOICES.match(text) if "[?]" in text else None
        if m is not None and _is_yes(m.group("choices"), m.group("answer")):
            question = _question(lines, i)
            if question:
                out.append(FactValue(question, lines[i].no))
        i += used
    return out


def _is_yes(choices: str, answer: str) -> bool:
    letters = [letter.lower() for letter in _LETTER.findall(choices)]
    if not answer or len(letters) < 2:
        return False  # unanswered (the run waited or was stopped) or not a choice line
    yes = letters[:2] if len(letters) >= YES_TO_ALL_FORM else letters[:1]
    return answer.lower() in yes


def _question(lines: Sequence[Line], at: int) -> str:
    above: list[str] = []
    for line in reversed(lines[max(0, at - QUESTION_LINES) : at]):
        if not line.text.strip():
            break
        above.append(line.text.strip())
    return " ".join(reversed(above))

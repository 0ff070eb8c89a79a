"""psgdiag.pipeline.prompts: a choice prompt's answer read from its letters, in any language."""

from __future__ import annotations

import pytest

from psgdiag.model import Line
from psgdiag.pipeline.prompts import accepted_questions

QUESTION = [
    "Untrusted repository",
    "Are you sure you want to install the modules from 'PSGallery'?",
]


def lines(*texts: str) -> list[Line]:
    return [Line(i + 1, t, t) for i, t in enumerate(texts)]


@pytest.mark.parametrize(
    ("choices", "yes"),
    [
        (
            '[Y] Yes  [A] Yes to All  [N] No  [L] No to All  [S] Suspend  [?] Help (default is "N"): y',
            True,
        ),
        (
            '[Y] Yes  [A] Yes to All  [N] No  [L] No to All  [S] Suspend  [?] Help (default is "N"): a',
            True,
        ),
        (
            '[Y] Yes  [A] Yes to All  [N] No  [L] No to All  [S] Suspend  [?] Help (default is "N"): N',
            False,
        ),
        (
            '[Y] Yes  [A] Yes to All  [N] No  [L] No to All  [S] Suspend  [?] Help (default is "N"):',
            False,
        ),
        ('[Y] Yes  [N] No  [S] Suspend  [?] Help (default is "Y"): Y', True),
        ('[Y] Yes  [N] No  [S] Suspend  [?] Help (default is "Y"): n', False),
        (
            '[Y] Yes  [A] Yes to All  [H] Halt Command  [S] Suspend  [?] Help (default is "Y"): A',
            True,
        ),
        (
            "[O] Oui  [T] Oui pour tout  [N] Non  [U] Non pour tout  [S] Suspendre  [?] Aide (la valeur par défaut est « N ») : O",
            True,
        ),
        ("[O] Oui  [N] Non  [S] Suspendre  [?] Aide (la valeur par défaut est « O ») : o", True),
        (
            '[J] Ja  [A] Ja, alle  [N] Nein  [K] Nein, keine  [H] Anhalten  [?] Hilfe (Standard ist "N"): K',
            False,
        ),
        ('[J] Ja  [N] Nein  [H] Anhalten  [?] Hilfe (Standard ist "J"): N', False),
        ('[Y] 예(Y)  [N] 아니요(N)  [S] 일시 중단(S)  [?] 도움말 (기본값은 "Y"): Y', True),
        ("[Y] 是(Y)  [N] 否(N)  [S] 暂停(S)  [?] 帮助 (默认值为“Y”): y", True),
        (
            '[Y] はい(Y)  [A] すべて続行(A)  [N] いいえ(N)  [L] すべて無視(L)  [S] 中断(S)  [?] ヘルプ (既定値は "N"): Y',
            True,
        ),
        ('[Y] はい(Y)  [N] いいえ(N)  [S] 中断(S)  [?] ヘルプ (既定値は "Y"): N', False),
    ],
)
def test_the_answer_is_read_from_the_choice_letters(choices: str, yes: bool) -> None:
    found = accepted_questions(lines("", *QUESTION, choices, "PS C:\\> "))
    assert [f.value for f in found] == ([" ".join(QUESTION)] if yes else [])
    if yes:
        assert found[0].line == 4


def test_a_choice_line_wrapped_by_the_console_is_joined() -> None:
    found = accepted_questions(
        lines(
            *QUESTION,
            "[Y] Yes  [A] Yes to All  [N] No  [L] No to All  [S] Suspend",
            '[?] Help (default is "N"): A',
        )
    )
    assert [f.value for f in found] == [" ".join(QUESTION)]


def test_the_question_stops_at_a_blank_line_and_prose_with_brackets_is_not_a_prompt() -> None:
    found = accepted_questions(
        lines(
            "Install-Module Foo",
            "",
            *QUESTION,
            '[Y] Yes  [N] No  [S] Suspend  [?] Help (default is "Y"): Y',
            "see [1] and [2] in the docs [?] (footnote): y",
        )
    )
    assert [(f.value, f.line) for f in found] == [(" ".join(QUESTION), 5)]

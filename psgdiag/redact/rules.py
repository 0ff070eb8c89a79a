"""Token shapes: secrets recognisable by their own text, wherever they appear.

The formats follow the published rule sets of detect-secrets (Yelp, detect_secrets/plugins) and
gitleaks (cmd/generate/config/rules): the prefix, alphabet and length of each kind of key. Each
rule names the part to mask with the group `s` (or `s2`); psgdiag.redact runs the rules of
psgdiag.redact.context first, then these, then psgdiag.redact.personal, and where two overlap
the earlier one wins.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from psgdiag import regexcode
from psgdiag.record import record

SECRET = "***"
USER = "<user>"
EMAIL = "<email>"
MACHINE = "<machine>"


@record
class Rule:
    """One kind of secret or personal datum: a pattern, its mask, and a cheap pre-check."""

    name: str
    pattern: re.Pattern[str]
    mask: str
    triggers: tuple[str, ...] = ()  # lower-case literals; the rule runs only if one occurs
    keep: Callable[[re.Match[str]], bool] | None = None  # True: this match is not a secret
    lines: bool = False  # the masked part spans lines: keep its line breaks
    word_start: bool = False  # the match must not continue a word (checked in code, so that
    # the pattern starts with its literal prefix, which the regex engine searches for fast)
    anchor: re.Pattern[str] | None = None  # where a match can start, found case-sensitively in
    # the lower-cased text (much faster than a case-insensitive scan); the pattern is then
    # matched at each such place only


_E = r"(?![A-Za-z0-9_])"  # a token ends here


def _token(name: str, body: str, *triggers: str, end: str = _E) -> Rule:
    return Rule(name, regexcode.compile(f"(?P<s>{body}){end}"), SECRET, triggers, word_start=True)


# Token shapes (detect-secrets plugins, gitleaks cmd/generate/config/rules).
TOKENS = (
    _token("nuget-api-key", r"oy2[a-z0-9]{43}", "oy2"),
    _token(
        "github-token", r"gh[pousr]_[A-Za-z0-9]{36,255}", "ghp_", "gho_", "ghu_", "ghs_", "ghr_"
    ),
    _token("github-fine-grained-pat", r"github_pat_[A-Za-z0-9_]{22,255}", "github_pat_"),
    _token(
        "gitlab-token",
        r"gl(?:pat|dt|rt|ft|cbt|oas|ptt|imt|soat|ffct|agent)-[A-Za-z0-9_-]{20,}",
        "gl",
        end=r"(?![\w-])",
    ),
    _token("azure-devops-pat-84", r"[A-Za-z0-9]{76}AZDO[A-Za-z0-9]{4}", "azdo"),
    _token("azure-ad-client-secret", r"[A-Za-z0-9_~.]{3}\dQ~[A-Za-z0-9_~.-]{31,34}", "q~"),
    _token("jwt", r"eyJ[\w-]{10,}\.eyJ[\w-]{10,}(?:\.[\w+/=-]*)?", "eyj", end=r"(?![\w-])"),
    _token("slack-token", r"xox[abposer]-[A-Za-z0-9-]{10,}", "xox", end=r"(?![\w-])"),
    _token("slack-config-token", r"xoxe\.xox[bp]-\d-[A-Za-z0-9]{100,}", "xoxe."),
    _token("slack-app-token", r"xapp-\d-[A-Z0-9]+-\d+-[a-z0-9]+", "xapp-"),
    _token("google-api-key", r"AIza[\w-]{35}", "aiza", end=r"(?![\w-])"),
    _token("google-oauth-secret", r"GOCSPX-[\w-]{28}", "gocspx-", end=r"(?![\w-])"),
    _token("stripe-key", r"(?:sk|rk)_(?:live|test|prod)_[A-Za-z0-9]{10,99}", "sk_", "rk_"),
    _token("npm-token", r"npm_[A-Za-z0-9]{36}", "npm_"),
    _token("pypi-token", r"pypi-AgE[\w-]{50,}", "pypi-", end=r"(?![\w-])"),
    _token(
        "aws-access-key-id",
        r"(?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}",
        "a3t",
        "akia",
        "asia",
        "abia",
        "acca",
    ),
    _token("sendgrid-key", r"SG\.[\w-]{22}\.[\w-]{43}", "sg.", end=r"(?![\w-])"),
    _token("openai-key", r"sk-(?:proj-|svcacct-|admin-)?[\w-]{20,}T3BlbkFJ[\w-]{20,}", "t3blbkfj"),
    _token("anthropic-key", r"sk-ant-(?:api|admin)\d\d-[\w-]{80,}", "sk-ant-", end=r"(?![\w-])"),
    _token("twilio-key", r"SK[0-9a-fA-F]{32}", "sk"),
    _token("mailgun-key", r"key-[0-9a-f]{32}", "key-"),
    _token("mailchimp-key", r"[0-9a-f]{32}-us\d{1,2}", "-us"),
    _token("databricks-token", r"dapi[0-9a-f]{32}(?:-\d)?", "dapi"),
    _token("digitalocean-token", r"do[opr]_v1_[a-f0-9]{64}", "_v1_"),
    _token("shopify-token", r"shp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}", "shp"),
    _token("heroku-key", r"HRKU-AA[\w-]{58}", "hrku-", end=r"(?![\w-])"),
    _token("vault-token", r"hv[sbr]\.[\w-]{24,}", "hvs.", "hvb.", "hvr.", end=r"(?![\w-])"),
    _token("dockerhub-pat", r"dckr_pat_[\w-]{27,}", "dckr_pat_", end=r"(?![\w-])"),
    _token("atlassian-token", r"ATATT3[A-Za-z0-9_=-]{100,}", "atatt3", end=r"(?![\w=-])"),
    _token("telegram-bot-token", r"\d{8,10}:AA[\w-]{33}", ":aa", end=r"(?![\w-])"),
)

# An Azure DevOps PAT is 52 base32 characters; a run of 52 lower-case letters without a digit is
# taken for one only next to a word that announces a key.
_ADO_CONTEXT = regexcode.compile(
    r"(?i)(?:pat|token|password|secret|key|credential|auth)[^\n]{0,60}$"
)


def _not_an_ado_pat(m: re.Match[str]) -> bool:
    """A run of 52 lower-case letters is a token when it has base32 digits or a key word near."""
    if re.search(r"[2-7]", m.group("s")):
        return False
    return not _ADO_CONTEXT.search(m.string, max(0, m.start() - 60), m.start())


ADO_PAT = Rule(
    "azure-devops-pat",
    regexcode.compile(r"(?<![A-Za-z0-9])(?P<s>[a-z2-7]{52})(?![A-Za-z0-9])"),
    SECRET,
    keep=_not_an_ado_pat,
)

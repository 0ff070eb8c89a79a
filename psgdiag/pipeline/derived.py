"""Facts derived from the extracted ones and the lines themselves, in any console language.

`psget_version` falls back to a version hinted at elsewhere; `module_near_name` (two module
names a letter or two apart: pipeline/nearnames.py), `repository_listing` (a repository listing
with or without PSGallery: pipeline/listings.py) and `prompt_accepted` (the question of a choice
prompt answered Yes: pipeline/prompts.py) are read from identifiers, not words.
"""

from __future__ import annotations

from collections.abc import Sequence

from psgdiag.model import FactValue, Line
from psgdiag.pipeline.listings import repository_listings
from psgdiag.pipeline.nearnames import near_name
from psgdiag.pipeline.prompts import accepted_questions


def add_derived(values: dict[str, list[FactValue]], lines: Sequence[Line], low: str) -> set[str]:
    """Add the derived facts to `values` (the lower-cased text gates each); return their names."""
    derived: set[str] = set()
    if "psget_version" not in values and "psget_hint" in values:
        values["psget_version"] = values["psget_hint"]
        derived.add("psget_version")
    near = near_name(values.get("module", ()))
    if near is not None:
        values["module_near_name"] = [near]
        derived.add("module_near_name")
    if "repository" in low:
        listings = repository_listings(lines)
        if listings:
            values["repository_listing"] = listings
            derived.add("repository_listing")
    if "[?]" in low:
        accepted = accepted_questions(lines)
        if accepted:
            values["prompt_accepted"] = accepted
            derived.add("prompt_accepted")
    return derived

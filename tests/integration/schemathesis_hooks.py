"""Schemathesis hooks for the openapi.yaml run: generated data honours the document's
`x-unique-by` rule, which JSON Schema cannot state (`uniqueItems` compares whole items).

`TaskValues` says `x-unique-by: Name`: task value names are unique. Without this hook a
random-seed run draws two TaskValues with the same Name as "positive" data, the server
rightly answers 400 and the positive-data check (ST202) fails. Bodies with duplicate
names are filtered out (in every mode: a duplicate is never the schema violation a
negative case is about), so the rest of the generation is untouched.
"""

from __future__ import annotations

from typing import Any

import schemathesis


def _unique_names(values: Any) -> bool:
    if not isinstance(values, list):
        return True
    names = [v.get("Name") for v in values if isinstance(v, dict) and isinstance(v.get("Name"), str)]
    return len(names) == len(set(names))


@schemathesis.hook
def filter_body(ctx: Any, body: Any) -> bool:
    """Keep a body unless its TaskValues repeat a Name."""
    return not isinstance(body, dict) or _unique_names(body.get("TaskValues"))

"""The built API reference shows the data: every field of every public model, with its type
and a line of text; `ClientOptions`' keys; values (not constant names) as defaults; httpx
types linked; nothing private in a signature.

The site is built once with `mkdocs build --strict` (as CI does), and the generated HTML
is read back, so what is checked is what a reader sees.
"""

from __future__ import annotations

import html
import re
import subprocess
import sys
import typing
from pathlib import Path

import attrs
import pytest

import amtopcon

ROOT = Path(__file__).resolve().parents[2]
DASH = "\N{EN DASH}"  # mkdocstrings: `name (type) DASH description`

pytestmark = pytest.mark.slow


def _text(fragment: str) -> str:
    """Visible text of an HTML fragment, with all whitespace removed (`name:type=value`)."""
    fragment = re.sub(r"<[^>]+>", "", fragment)
    return re.sub(r"\s+", "", html.unescape(fragment))


def _lines(fragment: str) -> str:
    """Visible text, one line per list item, paragraph or cell, blanks removed within lines."""
    fragment = re.sub(r"\s+", " ", fragment)
    fragment = re.sub(r"<(?:li|p|td|tr|h\d|div|dt|dd)\b[^>]*>", "\n", fragment)
    fragment = re.sub(r"<[^>]+>", "", fragment)
    return re.sub(r"[^\S\n]+", "", html.unescape(fragment))


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("site")
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-q", "-d", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={"NO_MKDOCS_2_WARNING": "1", "PATH": "", "HOME": str(out)},
        timeout=180,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return out


def _pages(site: Path) -> dict[str, str]:
    return {p.relative_to(site).as_posix(): p.read_text(encoding="utf-8") for p in site.glob("reference/api/*/*.html")}


def section(pages: dict[str, str], identifier: str) -> str:
    """The HTML of the object documented under the heading `identifier`, up to the next
    heading of the same level."""
    for page in pages.values():
        match = re.search(rf'<h(\d) id="{re.escape(identifier)}"', page)
        if match:
            level = match.group(1)
            end = re.compile(rf'<h{level} id="[^"]+"')
            following = end.search(page, match.end())
            return page[match.start() : following.start() if following else len(page)]
    raise AssertionError(f"no reference page has a heading for {identifier}")


def missing_fields(section_html: str, fields: dict[str, str | None]) -> list[str]:
    """The fields that the section does not list as `name (type) DASH one line`.

    `fields` maps each name to its type as written (None: any non-empty type).
    """
    text = _lines(section_html)
    missing = []
    for name, type_text in fields.items():
        wanted = re.escape(re.sub(r"\s+", "", type_text)) if type_text else r"[^()]+(?:\([^()]*\))?[^()]*"
        if not re.search(rf"(?m)^{re.escape(name)}\({wanted}\){DASH}\s*\w", text):
            missing.append(name)
    return missing


def _models() -> list[type]:
    found = []
    for name in amtopcon.__all__:
        obj = getattr(amtopcon, name)
        if isinstance(obj, type) and attrs.has(obj):
            found.append(obj)
    return found


PUBLIC = ["JobStatus", "Message", "MessagePage", "ActionResult", "JobResult", "TaskValue", "PollPolicy"]


def test_the_public_models_are_the_ones_checked() -> None:
    assert {cls.__name__ for cls in _models()} >= set(PUBLIC)


@pytest.mark.parametrize("cls", _models(), ids=lambda cls: cls.__name__)
def test_every_model_field_is_on_its_reference_page(site: Path, cls: type) -> None:
    fields = {f.name: f.type if isinstance(f.type, str) else None for f in attrs.fields(cls)}
    where = section(_pages(site), f"amtopcon.{cls.__name__}")
    assert missing_fields(where, fields) == [], f"{cls.__name__}: fields missing from the reference"


def test_client_options_keys_are_listed(site: Path) -> None:
    keys = dict.fromkeys(typing.get_type_hints(amtopcon.ClientOptions))
    assert missing_fields(section(_pages(site), "amtopcon.ClientOptions"), keys) == []


def test_signatures_show_values_public_types_and_link_httpx(site: Path) -> None:
    pages = _pages(site)
    client = _text(section(pages, "amtopcon.Client"))
    for shown in ("timeout:float|httpx.Timeout=30.0", "total_timeout:float|None=120.0", "max_retries:int=3"):
        assert shown in client
    assert "JobStatus(batch_request_id:int,code:CompletionCode,status_text:str|None=None" in _text(
        section(pages, "amtopcon.JobStatus")
    )
    for name, page in pages.items():
        visible = _text(page)
        for private in ("DEFAULT_", "BaseClient", "_base.", "_wire.", "VerifyTypes", "ProxyTypes", "attrs.field"):
            assert private not in visible, f"{name} shows {private}"
    assert 'href="../httpx/#httpx.Timeout"' in pages["reference/api/clients/index.html"]


def test_a_method_made_by_a_wrapper_shows_the_wrapped_parameters(site: Path) -> None:
    shown = _text(section(_pages(site), "amtopcon.testing.Emulator.add_job"))
    assert "add_job(application:str,job:str,steps:Iterable[" in shown
    assert "final:CompletionCode|int|str=" in shown and "description:str|None=None)->JobScript" in shown
    assert "Requestsalreadystartedkeepthescripttheystartedwith." in shown


def test_the_checker_notices_a_missing_field() -> None:
    page = (
        f'<h2 id="amtopcon.Thing">Thing</h2><ul><li><b><code>alpha</code></b> (<code>int</code>) {DASH} the first.</li>'
        f"<li><b><code>beta</code></b> (<code>str | None</code>) {DASH} the second.</li></ul>"
        f'<h2 id="amtopcon.Other">Other</h2><ul><li><b><code>gamma</code></b> (<code>int</code>) {DASH} elsewhere.</li>'
    )
    where = section({"p": page}, "amtopcon.Thing")
    assert missing_fields(where, {"alpha": "int", "beta": "str | None"}) == []
    assert missing_fields(where, {"alpha": "str", "gamma": "int", "delta": None}) == ["alpha", "gamma", "delta"]

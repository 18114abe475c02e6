"""The Markdown runner itself: a broken documented example must fail the suite."""

from __future__ import annotations

import textwrap

import pytest

from tests.docs.mdrun import DocBlockError, MarkerError, extract_blocks, run_blocks


def page(text: str) -> str:
    return textwrap.dedent(text).lstrip()


def test_a_failing_block_fails_with_its_page_and_line() -> None:
    md = page(
        """
        # A page

        ```python
        total = 1 + 1
        ```

        Some prose.

        ```python
        assert total == 3, "the docs say 3"
        ```
        """
    )
    with pytest.raises(DocBlockError) as info:
        run_blocks(extract_blocks(md, "docs/broken.md"))
    text = str(info.value)
    assert "docs/broken.md:9" in text
    assert "AssertionError: the docs say 3" in text


def test_blocks_of_a_page_share_one_namespace_in_order() -> None:
    md = page(
        """
        ```python
        items = []
        ```
        ```py
        items.append(1)
        ```
        ```python title="third.py"
        items.append(2)
        ```
        """
    )
    ns: dict[str, object] = {}
    assert run_blocks(extract_blocks(md), ns) == 3
    assert ns["items"] == [1, 2]


def test_marked_blocks_and_other_languages_are_not_run() -> None:
    md = page(
        """
        ```bash
        exit 1
        ```

        <!-- not-runnable: talks to a real AMT server -->
        ```python
        raise SystemExit("must not run")
        ```

        ```json
        {"not": "python"}
        ```
        """
    )
    blocks = extract_blocks(md)
    assert [b.runnable for b in blocks] == [False, False, False]
    assert blocks[1].not_runnable == "talks to a real AMT server"
    assert run_blocks(blocks) == 0


def test_a_marker_needs_a_reason_and_a_python_block() -> None:
    with pytest.raises(MarkerError, match="needs a reason"):
        extract_blocks("<!-- not-runnable: -->\n```python\npass\n```\n")
    with pytest.raises(MarkerError, match="malformed marker"):
        extract_blocks("<!-- notrunnable because -->\n```python\npass\n```\n")
    with pytest.raises(MarkerError, match="in front of a bash block"):
        extract_blocks("<!-- not-runnable: shell -->\n```bash\ntrue\n```\n")


def test_indented_blocks_in_admonitions_and_tabs_run() -> None:
    md = page(
        """
        !!! example

            ```python
            if True:
                found = "indented"
            ```

        === "Tab"

            ````python
            found2 = "four backticks"
            ````
        """
    )
    ns: dict[str, object] = {}
    assert run_blocks(extract_blocks(md), ns) == 2
    assert ns["found"] == "indented" and ns["found2"] == "four backticks"


def test_top_level_await_runs_as_in_a_notebook() -> None:
    md = page(
        """
        ```python
        import asyncio

        await asyncio.sleep(0)
        answer = 42
        ```
        """
    )
    ns: dict[str, object] = {}
    run_blocks(extract_blocks(md), ns)
    assert ns["answer"] == 42


def test_system_exit_in_a_block_is_a_failure() -> None:
    with pytest.raises(DocBlockError, match="SystemExit"):
        run_blocks(extract_blocks("```python\nraise SystemExit(3)\n```\n"))


def test_blocks_cannot_reach_beyond_loopback() -> None:
    md = page(
        """
        ```python
        import socket

        socket.getaddrinfo("amt.example.com", 443)
        ```
        """
    )
    with pytest.raises(DocBlockError, match="not on loopback"):
        run_blocks(extract_blocks(md))
    # loopback itself resolves
    run_blocks(extract_blocks("```python\nimport socket\nsocket.getaddrinfo('127.0.0.1', 80)\n```\n"))

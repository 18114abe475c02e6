"""Notebook views (`_repr_html_`) and the table exports (`to_records()`, `to_pandas()`)."""

from __future__ import annotations

import pickle
import re
import sys
import types
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from typing import Any

import pytest

from amtopcon import JobResult, JobStatus, Message, MessagePage
from amtopcon.errors import AmtOpConError, MissingDependencyError
from amtopcon.testing import Emulator

T0 = datetime(2026, 1, 5, 8, 0, 0, tzinfo=UTC)
NASTY = "<script>alert('x')</script> & \"quoted\" <img src=x onerror=alert(1)>"
ALLOWED_TAGS = {"div", "table", "thead", "tbody", "tr", "th", "td", "span", "b", "code"}


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse(html: str) -> _Tags:
    parser = _Tags()
    parser.feed(html)
    parser.close()
    return parser


def visible(html: str) -> str:
    return "".join(parse(html).text)


def log(count: int, *, text: str = "step {i}!") -> tuple[Message, ...]:
    return tuple(
        Message(i, T0 + timedelta(seconds=7 * i), "ERROR" if i % 3 == 0 else "INFO", text.format(i=i))
        for i in range(1, count + 1)
    )


def nasty_result() -> JobResult:
    status = JobStatus(9001, 11, NASTY, NASTY, NASTY, NASTY, T0, T0, T0 + timedelta(seconds=65))
    return JobResult(status, (Message(1, T0, NASTY, NASTY),))


def test_everything_shown_is_escaped() -> None:
    emulator = Emulator()
    handle = emulator.client().start("DEMO2", "REPORTTEST01")
    views = [
        nasty_result(),
        nasty_result().status,
        Message(1, T0, NASTY, NASTY),
        MessagePage((Message(1, T0, NASTY, NASTY),), has_more=True, batch_request_id=3),
        handle,
        emulator,
    ]
    for view in views:
        html = view._repr_html_()
        tags = parse(html).tags
        assert {tag for tag, _ in tags} <= ALLOWED_TAGS, type(view).__name__
        assert not any(name.startswith("on") for _, attrs in tags for name in attrs), type(view).__name__
        assert "<script" not in html and "<img" not in html
    html = nasty_result()._repr_html_()
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; &quot;quoted&quot;" in html
    assert NASTY in visible(html)  # the text itself is all there, as text


def test_a_long_log_is_cut_with_a_count_of_what_is_left_out() -> None:
    result = JobResult(JobStatus(1, 4), log(120))
    text = visible(result._repr_html_())
    assert "… 95 more messages" in text
    shown = [int(n) for n in re.findall(r"step (\d+)!", text)]
    assert shown == [*range(1, 11), *range(106, 121)]  # the first 10 and the last 15
    short = visible(JobResult(JobStatus(1, 4), log(30))._repr_html_())
    assert "more messages" not in short and "step 30!" in short


def test_a_long_message_is_cut_with_a_count_of_what_is_left_out() -> None:
    text = "A" * 480 + "<>" * 100
    html = Message(1, T0, "INFO", text)._repr_html_()
    assert "… 180 more characters" in visible(html)
    assert visible(html).count("A") == 480 and "&lt;&gt;" in html and "<>" not in html.split("…")[0][-20:]


def test_codes_and_severities_are_shown_by_word_and_by_colour() -> None:
    done = JobStatus(1, 4, application="A", job_name="J")._repr_html_()
    failed = JobStatus(1, 11)._repr_html_()
    running = JobStatus(1, 2)._repr_html_()
    assert "DONE 4" in visible(done) and "succeeded" in visible(done)
    assert "ERROR 11" in visible(failed) and "failed" in visible(failed)
    assert "RUNNING 2" in visible(running) and "not finished" in visible(running)
    colours = {re.search(r"background:(#\w+)", html).group(1) for html in (done, failed, running)}  # type: ignore[union-attr]
    assert len(colours) == 3
    rows = MessagePage((Message(1, T0, "ERROR", "bad"), Message(2, T0, "WARNING", "hm"), Message(3, T0, "INFO", "ok")))
    cells = re.findall(r'<td style="([^"]*)">(ERROR|WARNING|INFO)</td>', rows._repr_html_())
    styles = {word: style for style, word in cells}
    assert "color:" in styles["ERROR"] and "color:" in styles["WARNING"] and "color:" not in styles["INFO"]
    assert styles["ERROR"] != styles["WARNING"]


def test_an_unknown_code_is_not_shown_as_a_name(caplog: pytest.LogCaptureFixture) -> None:
    text = visible(JobStatus(1, 17)._repr_html_())
    assert "code 17" in text and "unknown code" in text and "UNKNOWN_17" not in text


def test_cells_are_left_aligned_whatever_the_notebook_css_says() -> None:
    html = JobResult(JobStatus(1, 4, submitted_at=T0), log(3))._repr_html_()
    for tag, attrs in parse(html).tags:
        if tag in {"td", "th"}:
            assert re.search(r"text-align:(left|right)", attrs["style"] or ""), attrs
    texts = re.findall(r'<td style="([^"]*)">step', html)
    assert texts and all(style.rfind("text-align:left") > style.rfind("text-align:right") for style in texts)


def test_times_are_compact() -> None:
    result = JobResult(
        JobStatus(1, 4, started_at=T0, ended_at=T0 + timedelta(minutes=2, seconds=5)),
        (Message(1, T0 + timedelta(seconds=1, microseconds=123456), "INFO", "a"), Message(2, T0 + timedelta(days=1))),
    )
    text = visible(result._repr_html_())
    assert "2026-01-05 08:00:00 UTC" in text and "2 min 05 s" in text
    assert "08:00:01" in text and "01-06 08:00:00" in text  # the other day's date is shown
    assert "T08" not in text and "123456" not in text


def test_a_handle_shows_what_it_last_saw_without_a_call() -> None:
    emulator = Emulator()
    client = emulator.client()
    handle = client.start("DEMO2", "REPORTTEST01")
    seen = len(emulator.requests)
    text = visible(handle._repr_html_())
    assert f"JobHandle {handle.batch_request_id}" in text and "DEMO2 / REPORTTEST01" in text
    assert "not finished" in text and len(emulator.requests) == seen
    fresh = visible(client.job(handle.batch_request_id)._repr_html_())
    assert "none seen yet" in fresh


@pytest.mark.anyio
async def test_an_async_handle_renders_too() -> None:
    emulator = Emulator()
    async with emulator.async_client() as client:
        handle = await client.start("DEMO2", "REPORTTEST01")
        assert f"AsyncJobHandle {handle.batch_request_id}" in visible(handle._repr_html_())


def test_the_emulator_shows_its_clock_and_latest_requests() -> None:
    emulator = Emulator()
    client = emulator.client()
    for _ in range(33):
        client.start("DEMO2", "REPORTTEST01")
    emulator.advance(60)
    text = visible(emulator._repr_html_())
    assert "VirtualClock at 2026-01-05 08:01:00 UTC" in text
    assert "… 3 more batch requests" in text and "33" in text and "succeeded" in text


def test_an_empty_page_says_so() -> None:
    text = visible(MessagePage()._repr_html_())
    assert "0 messages" in text and "no messages" in text
    more = visible(MessagePage(log(2), has_more=True)._repr_html_())
    assert "2 messages, #1 to #2" in more and "more waiting" in more


def test_to_records_gives_plain_dicts_of_the_log() -> None:
    result = JobResult(JobStatus(7, 4), log(3))
    records = result.to_records()
    assert records[0] == {"batch_request_id": 7, "sequence": 1, "timestamp": T0 + timedelta(seconds=7),
                          "severity": "INFO", "text": "step 1!"}  # fmt: skip
    assert [r["sequence"] for r in records] == [1, 2, 3]
    assert all(type(r) is dict for r in records)
    page = MessagePage(log(2), batch_request_id=None)
    assert page.to_records() == [dict(r, batch_request_id=None) for r in records[:2]]
    assert JobResult(JobStatus(7, 4)).to_records() == []


def test_to_pandas_without_pandas_names_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pandas", None)  # `import pandas` now fails
    for view in (JobResult(JobStatus(7, 4), log(2)), MessagePage(log(2))):
        with pytest.raises(MissingDependencyError, match="pandas") as caught:
            view.to_pandas()
        assert caught.value.package == "pandas"
        assert isinstance(caught.value, ImportError) and isinstance(caught.value, AmtOpConError)
    again = pickle.loads(pickle.dumps(caught.value))
    assert again.package == "pandas" and str(again) == str(caught.value)


def test_to_pandas_hands_the_records_and_columns_to_pandas(monkeypatch: pytest.MonkeyPatch) -> None:
    made: list[tuple[Any, Any]] = []

    class DataFrame:
        @classmethod
        def from_records(cls, records: Any, columns: Any) -> str:
            made.append((records, columns))
            return "a frame"

    fake = types.ModuleType("pandas")
    fake.DataFrame = DataFrame  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "pandas", fake)
    result = JobResult(JobStatus(7, 4), log(2))
    assert result.to_pandas() == "a frame"
    assert MessagePage().to_pandas() == "a frame"
    columns = ["batch_request_id", "sequence", "timestamp", "severity", "text"]
    assert made == [(result.to_records(), columns), ([], columns)]  # an empty log still has its columns


def test_import_amtopcon_does_not_load_pandas_or_the_views() -> None:
    import subprocess

    code = "import amtopcon, sys; amtopcon.JobResult; print('pandas' in sys.modules, 'amtopcon._html' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]

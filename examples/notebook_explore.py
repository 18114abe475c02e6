# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Exploring the AMT emulator
#
# `amtopcon.testing.Emulator` is an AMT batch environment in process: the vendor's
# sample jobs, the contract's behaviour, and a virtual clock that moves only when we move
# it (or when a client waits). No server and no network are needed.
#
# This notebook is kept as a jupytext "percent" script (`examples/notebook_explore.py`);
# the test suite runs its cells in order. Make an `.ipynb` with
# `jupytext --to ipynb examples/notebook_explore.py`.

# %%
# ruff: noqa: B018, E402, F704 (notebook cells: a bare last expression is displayed; top-level await)
from amtopcon import CompletionCode, PollPolicy
from amtopcon.testing import Emulator

emulator = Emulator()
client = emulator.client()
emulator

# %% [markdown]
# ## The catalog
#
# The default catalog holds the vendor's sample jobs of application DEMO2.

# %%
for name, script in sorted(emulator.catalog.applications["DEMO2"].jobs.items()):
    print(f"{name:<20} {script.duration:>7.1f} s  -> {script.final.name}")

# %% [markdown]
# ## A job, moment by moment
#
# START answers at once. Nothing happens until the clock moves.

# %%
job = client.start("DEMO2", "RUN_PARAMETERTESTA", parameters=["'PARAM'"])
print(job.batch_request_id, job.status())

# %%
timeline = []
for _ in range(6):
    emulator.advance(10)
    status = job.status()
    timeline.append((emulator.now, status.code.name, len(job.messages())))
timeline

# %% [markdown]
# `wait()` polls on the emulator's clock, so the rest of the job passes at once. In
# Jupyter a `JobResult` shows its code (by colour and by word), its times and its job log
# (`_repr_html_`); statuses, messages, pages, handles and the emulator show too.
# `to_records()` gives the log as plain dicts (`to_pandas()` a DataFrame, with pandas).

# %%
result = job.wait()
result

# %%
html = result._repr_html_()
assert "succeeded" in html and "Value test param [&#x27;PARAM&#x27;]" in html
print(result.to_records()[-1])
print(repr(result))
print(result.code.name, result.exit_code, result.duration)

# %% [markdown]
# ## Waiting states, stop and kill

# %%
waiting = client.start("DEMO2", "WAITFORFILETEST")
emulator.advance(2)
print(waiting.status().code.name)  # WAIT_FOR_FILE

long_one = client.start("DEMO2", "LONGRUNNINGREPORT")
emulator.advance(120)
print(long_one.kill(), long_one.wait().code.name)  # True KILLED
print(long_one.kill())  # False: it has ended

# %% [markdown]
# ## Scripting a job of our own, and watching its status change

# %%
emulator.add_job(
    "FINANCE",
    "CLOSE_MONTH",
    steps=[
        ("Closing month {param[0]}", 60),
        ("Waiting for the bank file", 300, CompletionCode.WAIT_FOR_FILE),
        ("Month closed", 5),
    ],
)
changes = []
closing = client.run(
    "FINANCE",
    "CLOSE_MONTH",
    parameters=["2026-01"],
    poll=PollPolicy(initial_delay=1, interval=10, max_interval=30),
    on_status=lambda s: changes.append(s.code.name),
)
print(changes, [m.text for m in closing.messages])

# %% [markdown]
# ## Many jobs at once, with the async client
#
# Notebooks allow `await` at the top level of a cell.

# %%
import asyncio

aclient = emulator.async_client()
handles = [await aclient.start("DEMO2", name) for name in ("REPORTTEST01", "ERRORTEST01", "ABORTTEST01")]
results = await asyncio.gather(*(h.wait() for h in handles))
await aclient.aclose()
{r.status.job_name: (r.code.name, r.status.description) for r in results}

# %% [markdown]
# ## What the emulator received

# %%
from collections import Counter

Counter(r.function for r in emulator.requests)

# %%
client.close()

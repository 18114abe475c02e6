"""The `amtopcon` command's entry point (also `python -m amtopcon`).

`amtopcon --version` and `amtopcon encode VALUE` are answered here, before anything heavy
is imported (argparse, the CLI, httpx, cattrs): they start about as fast as Python itself.
Every other command line goes to `amtopcon.cli.main` unchanged.
"""

from __future__ import annotations

import sys

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Sequence

__all__ = ["main"]


def _answer_light(args: list[str]) -> int | None:
    """The exit code when `args` is a command answered here; None: the full CLI answers."""
    if args == ["--version"]:
        from amtopcon._version import __version__

        sys.stdout.write(f"amtopcon {__version__}\n")
        sys.stdout.flush()
        return 0
    if len(args) == 2 and args[0] == "encode" and args[1] and not args[1].startswith("-"):
        import base64

        try:  # the full CLI words what cannot be encoded (e.g. undecodable bytes in argv)
            encoded = base64.b64encode(args[1].encode("utf-8")).hex()  # as `config.encode_credential`
        except UnicodeError:
            return None
        sys.stdout.write(encoded + "\n")
        sys.stdout.flush()
        return 0
    return None


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command; returns the exit code (see `amtopcon.cli` for the table)."""
    args = list(sys.argv[1:] if argv is None else argv)
    code = _answer_light(args)
    if code is not None:
        return code
    from amtopcon.cli import main as full

    return full(args)

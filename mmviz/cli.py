"""``python -m mmviz VERB ...``: every verb lives in ``mmviz/commands/<verb>.py``.

A command module defines ``HELP`` (one line), ``add_arguments(parser)`` and
``run(args) -> int``. Errors meant for a person (:class:`MmvizError`, bad arguments)
print one line on stderr and exit 2; nothing prints a traceback for bad input.
"""

from __future__ import annotations

import argparse
import sys
from types import ModuleType

from mmviz.commands import bench, check, embed, embed_model, gallery, project, runs, train, unlearn
from mmviz.errors import MmvizError

# Verb → its module. A command module imports its work inside run(), so that building this
# parser (and `--help`) never loads torch. Later features add their verbs here.
COMMANDS: dict[str, ModuleType] = {
    "check": check,
    "bench": bench,
    "train": train,
    "unlearn": unlearn,
    "embed": embed,
    "embed-model": embed_model,
    "runs": runs,
    "project": project,
    "gallery": gallery,
}


class OneLineParser(argparse.ArgumentParser):
    """argparse that reports a usage error as a single line."""

    def error(self, message: str):  # noqa: D401 - argparse API
        self.exit(2, f"error: {self.prog}: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="mmviz", description="mmviz: geometry of multimodal contrastive learning")
    sub = parser.add_subparsers(dest="verb", metavar="VERB", parser_class=OneLineParser)
    sub.required = True
    for verb, module in COMMANDS.items():
        p = sub.add_parser(verb, help=module.HELP, description=module.HELP)
        module.add_arguments(p)
        p.set_defaults(_run=module.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args._run(args) or 0)
    except MmvizError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130

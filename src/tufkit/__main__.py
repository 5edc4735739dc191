"""``python -m tufkit``: the same as the ``tufkit`` command."""

from tufkit.cli import run

run()

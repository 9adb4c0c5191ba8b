"""``python -m garde``: the same as the ``garde`` command."""

from garde.cli import main

main()

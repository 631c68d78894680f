"""The `carebridge` command: Django's manage.py, installed as a console script."""

import os
import sys


def _command_names(argv: list[str]) -> list[str]:
    """Django names commands after their modules (import_csv); people type `import-csv`. Accept both,
    as the command (`carebridge import-csv DIR`) and as the topic of help (`carebridge help import-csv`)."""
    argv = list(argv)
    for position in (1, 2):
        if len(argv) > position and (position == 1 or argv[1] == "help") and not argv[position].startswith("-"):
            argv[position] = argv[position].replace("-", "_")
    return argv


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "carebridge.config.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(_command_names(sys.argv))


if __name__ == "__main__":
    main()

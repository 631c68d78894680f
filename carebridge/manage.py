"""The `carebridge` command: Django's manage.py, installed as a console script.

In a checkout where `make run` has run, the command uses the demo's settings: bin/run writes the ones
it used (CAREBRIDGE_DEMO, and DATABASE_URL when set) to run.env in the var folder
(CAREBRIDGE_VAR_DIR, by default <checkout>/var), and they fill in whatever the environment leaves
unset. Where settings are missing, the command says so in one line and exits 2 (docs/configuration.md).
"""

import os
import sys
from collections.abc import Mapping
from pathlib import Path

# The project is installed editable (pip -e), so the checkout is this file's folder's parent.
CHECKOUT = Path(__file__).resolve().parent.parent
RUN_ENV = "run.env"
EXIT_NOT_CONFIGURED = 2


def _command_names(argv: list[str]) -> list[str]:
    """Django names commands after their modules (import_csv); people type `import-csv`. Accept both,
    as the command (`carebridge import-csv DIR`) and as the topic of help (`carebridge help import-csv`)."""
    argv = list(argv)
    for position in (1, 2):
        if len(argv) > position and (position == 1 or argv[1] == "help") and not argv[position].startswith("-"):
            argv[position] = argv[position].replace("-", "_")
    return argv


def run_env_path(environ: Mapping[str, str]) -> Path:
    """Where `make run` writes its settings: the same var folder the settings use."""
    return Path(environ.get("CAREBRIDGE_VAR_DIR") or CHECKOUT / "var") / RUN_ENV


def run_env_defaults(environ: Mapping[str, str]) -> dict[str, str]:
    """The settings of the last `make run` that the environment does not set itself.

    None at all where SECRET_KEY is set: that environment is a real deployment, which must not pick up
    the demo's database or its leave to use the built-in key.
    """
    path = run_env_path(environ)
    if environ.get("SECRET_KEY") or not path.is_file():
        return {}
    defaults = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        name, equals, value = (part.strip() for part in line.partition("="))
        if equals and name and not name.startswith("#") and name not in environ:
            defaults[name] = value
    return defaults


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "carebridge.config.settings")
    os.environ.update(run_env_defaults(os.environ))
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line

    try:
        settings.INSTALLED_APPS  # noqa: B018 (reading one setting loads them all, which may refuse)
    except ImproperlyConfigured as exc:
        # Missing settings are the reader's to fix, not a bug: one line, no traceback.
        path = run_env_path(os.environ)
        where = "" if path.is_file() else f", and there is no {path} from `make run` to take the demo's settings from"
        print(f"carebridge: {exc}{where}. See docs/configuration.md.", file=sys.stderr)
        sys.exit(EXIT_NOT_CONFIGURED)
    execute_from_command_line(_command_names(sys.argv))


if __name__ == "__main__":
    main()

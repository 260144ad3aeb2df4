"""``llmring.lock``: aliases bound to ordered ``provider:model`` fallbacks, by profile.

The format is llmring's (TOML)::

    version = "1.0"
    default_profile = "default"

    [[profiles.default.bindings]]
    alias = "chatbot"
    models = ["anthropic:claude-3-5-haiku-20241022", "openai:gpt-4o-mini"]
    wire = "chat"   # ours, optional: how its openai: models are spoken to (as -o wire=...)

The file is found from an explicit path, else ``LLMRING_LOCKFILE_PATH``, else
``llmring.lock`` in the working directory or the nearest parent (a notebook in
a sub-folder of a project still finds the project's lockfile).
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path

from .errors import ConfigurationError

FILENAME = "llmring.lock"
#: How an ``openai:`` model may be spoken to: OpenAI's Responses API, or Chat Completions (compatible servers).
WIRES = ("responses", "chat")


@dataclass(frozen=True)
class Lockfile:
    path: Path
    default_profile: str
    profiles: dict[str, dict[str, tuple[str, ...]]]  # profile -> alias -> models
    wires: dict[str, dict[str, str]]  # profile -> alias -> the wire its openai: models speak, where set

    def profile_name(self, profile: str | None = None) -> str:
        return profile or os.environ.get("LLMRING_PROFILE") or self.default_profile

    def aliases(self, profile: str | None = None) -> dict[str, tuple[str, ...]]:
        name = self.profile_name(profile)
        if name not in self.profiles:
            known = ", ".join(sorted(self.profiles)) or "none"
            raise ConfigurationError(
                f"Profile {name!r} is not in {self.path} (profiles: {known}); "
                "set LLMRING_PROFILE or pass another profile."
            )
        return self.profiles[name]

    def wire(self, alias: str, profile: str | None = None) -> str | None:
        """The wire ``alias``'s ``openai:`` models are spoken to with, if the binding says."""
        return self.wires.get(self.profile_name(profile), {}).get(alias)


def find(start: Path | None = None, explicit: str | os.PathLike[str] | None = None) -> Path | None:
    """Where the lockfile is, or None when there is none."""
    if explicit or os.environ.get("LLMRING_LOCKFILE_PATH"):
        path = Path(explicit or os.environ["LLMRING_LOCKFILE_PATH"]).expanduser()
        if not path.is_file():
            raise ConfigurationError(f"Lockfile {path} does not exist; fix the path or unset LLMRING_LOCKFILE_PATH.")
        return path
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        candidate = folder / FILENAME
        if candidate.is_file():
            return candidate
    return None


def load(path: Path) -> Lockfile:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigurationError(f"Cannot read lockfile {path}: {exc}") from None
    profiles: dict[str, dict[str, tuple[str, ...]]] = {}
    wires: dict[str, dict[str, str]] = {}
    for pname, body in (data.get("profiles") or {}).items():
        bindings: dict[str, tuple[str, ...]] = {}
        for binding in body.get("bindings") or ():
            alias = binding.get("alias")
            models = binding.get("models") or ([binding["model"]] if binding.get("model") else [])
            if not alias or not models:
                raise ConfigurationError(
                    f"Lockfile {path}: every binding of profile {pname!r} needs an alias and models."
                )
            bindings[alias] = tuple(models)
            if (wire := binding.get("wire")) is not None:
                if wire not in WIRES:
                    raise ConfigurationError(
                        f"Lockfile {path}: the binding {alias!r} has wire = {wire!r}; write responses or chat."
                    )
                wires.setdefault(pname, {})[alias] = wire
        profiles[pname] = bindings
    return Lockfile(path, data.get("default_profile") or "default", profiles, wires)

"""Where each corpus comes from (../shared/data-sources.md) and how it is split: by source, never by segment."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePosixPath


@dataclass(frozen=True)
class DebSource:
    """Audio files inside a Debian package; `track_of` names the split unit, `validation` lists held-out units."""

    package: str
    pattern: str  # glob inside the unpacked package
    track_part: int  # index of the path part (relative to the glob root) that names the track / level / language
    root: str
    validation: frozenset[str]
    exclude: frozenset[str] = frozenset()
    archive_glob: str | None = None  # zip archives (.pk3) to open inside the package

    def track_of(self, rel: str) -> str:
        return PurePosixPath(rel).parts[self.track_part]


FILLETS_VAL = frozenset({"kitchen", "turtle", "wreck", "ufo", "library", "cave", "city"})

SPEECH = (
    DebSource("fillets-ng-data-cs", "*/cs/*.ogg", 0, "usr/share/games/fillets-ng/sound", FILLETS_VAL),
    DebSource("klettres-data", "*/*/*.ogg", 0, "usr/share/klettres", frozenset({"en", "en_GB"})),
)

MUSIC = (
    DebSource("ufoai-music", "*.ogg", -1, "usr/share/games/ufoai/base", frozenset(), archive_glob="0music.pk3"),
    DebSource("warzone2100-music", "**/*.opus", -1, "usr/share/games/warzone2100/music", frozenset()),
    DebSource("planetblupi-music-ogg", "**/*.ogg", -1, "usr/share/planetblupi/music", frozenset()),
    DebSource("nexuiz-music", "*.ogg", -1, "usr/share/games/nexuiz/data", frozenset(), archive_glob="music.pk3"),
    DebSource("singularity-music", "**/*.ogg", -1, "usr/share/games/singularity/music", frozenset()),
    DebSource("pushover-data", "**/*.ogg", -1, "usr/share/pushover/themes", frozenset()),
    DebSource("wesnoth-1.16-music", "*.ogg", -1, "usr/share/games/wesnoth/1.16/data/core/music", frozenset({"*"})),
    DebSource("drascula-music", "*.ogg", -1, "usr/share/scummvm/drascula/audio", frozenset({"*"})),
)

CORPORA = ("speech", "piano", "music", "joint")

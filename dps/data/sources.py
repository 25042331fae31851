"""Where each corpus comes from (../shared/data-sources.md) and how it is split: by source, never by segment."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import PurePosixPath


@dataclass(frozen=True)
class DebSource:
    """Audio files inside a Debian package; `track_of` names the split unit, `validation` lists held-out units."""

    package: str
    pattern: str  # glob inside the unpacked package
    track_part: int  # index of the path part (relative to the glob root) that names the track; -1: the file's stem
    root: str
    validation: frozenset[str]
    exclude: frozenset[str] = frozenset()
    archive_glob: str | None = None  # zip archives (.pk3) to open inside the package
    track_regex: str = ""  # when set, its group 1 in the relative path names the track (track_default if no match)
    track_default: str = ""  # without track_regex: every file is this one track
    join_seconds: float = 0.0  # > 0: a track's short clips are joined, in name order, into files of about this length
    min_rate: int = 0  # files recorded below this rate (band-limited) are left out

    def track_of(self, rel: str) -> str:
        if self.track_regex:
            m = re.search(self.track_regex, rel)
            return (m.group(1) if m else None) or self.track_default
        if self.track_default:
            return self.track_default
        if self.track_part == -1:
            return PurePosixPath(rel).stem
        return PurePosixPath(rel).parts[self.track_part]


@dataclass(frozen=True)
class NpmPackage:
    """A package tarball from the npm registry, pinned by version and its sha512 `dist.integrity`."""

    name: str
    version: str
    integrity: str

    @property
    def tarball(self) -> str:
        return f"https://registry.npmjs.org/{self.name}/-/{self.name.split('/')[-1]}-{self.version}.tgz"


FILLETS_VAL = frozenset({"kitchen", "turtle", "wreck", "ufo", "library", "cave", "city"})

# Spoken words and sentences by volunteers, one voice per language and package, each its own microphone and room:
# clips of one language are joined into files of about a minute so that no clip is shorter than a training segment.
VOLUNTEERS_VAL = frozenset({"el"})
SPEECH = (
    DebSource("fillets-ng-data-cs", "*/cs/*.ogg", 0, "usr/share/games/fillets-ng/sound", FILLETS_VAL),
    DebSource("klettres-data", "*/*/*.ogg", 0, "usr/share/klettres", frozenset({"en", "en_GB"})),
    DebSource(
        "tuxpaint-stamps-default",
        "**/*_desc*.ogg",
        0,
        "usr/share/tuxpaint/stamps",
        VOLUNTEERS_VAL,
        track_regex=r"_desc_([^./]+)(?:\.ogg)+$",
        track_default="en",
        join_seconds=60.0,
        min_rate=22050,
    ),
    DebSource(
        "ktuberling-data", "*/*.*", 0, "usr/share/ktuberling/sounds", VOLUNTEERS_VAL, join_seconds=60.0, min_rate=22050
    ),
    # One Mandarin voice, syllable by syllable: every file is the track "zh".
    DebSource(
        "gcin-voice",
        "*/*.ogg",
        0,
        "usr/share/gcin-voice/ogg",
        frozenset(),
        track_default="zh",
        join_seconds=60.0,
        min_rate=22050,
    ),
)

MUSIC = (
    DebSource("ufoai-music", "*.ogg", -1, "usr/share/games/ufoai/base", frozenset(), archive_glob="0music.pk3"),
    DebSource("warzone2100-music", "**/*.opus", -1, "usr/share/games/warzone2100/music", frozenset()),
    DebSource("planetblupi-music-ogg", "**/*.ogg", -1, "usr/share/planetblupi/music", frozenset()),
    DebSource("nexuiz-music", "*.ogg", -1, "usr/share/games/nexuiz/data", frozenset(), archive_glob="music.pk3"),
    DebSource("singularity-music", "**/*.ogg", -1, "usr/share/games/singularity/music", frozenset()),
    DebSource("pushover-data", "**/*.ogg", -1, "usr/share/pushover/themes", frozenset()),
    # Five more soundtracks (chiptune, orchestral, folk, electronic), all for training.
    DebSource("supertux-data", "*/*.ogg", -1, "usr/share/games/supertux2/music", frozenset()),
    DebSource("freedroidrpg-data", "*.ogg", -1, "usr/share/freedroidrpg/data/sound/music", frozenset()),
    DebSource("megaglest-data", "**/music/*.ogg", -1, "usr/share/games/megaglest", frozenset()),
    DebSource("warmux-data", "*/*.ogg", -1, "usr/share/games/warmux/music", frozenset()),
    DebSource("fillets-ng-data", "*.ogg", -1, "usr/share/games/fillets-ng/music", frozenset()),
    DebSource("wesnoth-1.16-music", "*.ogg", -1, "usr/share/games/wesnoth/1.16/data/core/music", frozenset({"*"})),
    DebSource("drascula-music", "*.ogg", -1, "usr/share/scummvm/drascula/audio", frozenset({"*"})),
)

CORPORA = ("speech", "piano", "music", "joint")

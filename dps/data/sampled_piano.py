"""A multisampled piano: MIDI notes played from a folder of per-note recordings (e.g. the Salamander Grand Piano's
npm packages), each note the nearest recorded key resampled to pitch, cut by a damper release at note-off."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from dps.audio import SAMPLE_RATE, load_audio

# "D#4v8": key D#4 recorded at velocity layer 8; "Ds4" or "D#4" (no layer): a one-layer set, every velocity plays it
_NAME = re.compile(r"^([A-G])(#|s)?(\d)(?:v(\d+))?$")
_PITCH_CLASS = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}
RELEASE_S = 0.12  # damper decay time constant after note-off
TAIL_S = 0.6  # the release is cut this long after note-off


@dataclass(frozen=True)
class Note:
    """One key press: MIDI pitch, velocity 1-127, onset and held duration in seconds."""

    pitch: int
    velocity: int
    start: float
    duration: float


def key_of(stem: str) -> tuple[int, int] | None:
    """(MIDI pitch, velocity layer) from a sample name such as 'D#4v8', 'D#4' or 'Ds4' (C4 = 60, layer 1 where the
    name has none); None for other names."""
    m = _NAME.match(stem)
    if m is None:
        return None
    letter, sharp, octave, layer = m.groups()
    return 12 * (int(octave) + 1) + _PITCH_CLASS[letter] + (1 if sharp else 0), int(layer or 1)


class SampledPiano:
    """Per-key recordings by velocity layer, loaded at the corpus rate as mono float64."""

    def __init__(self, folders: list[Path], sample_rate: int = SAMPLE_RATE) -> None:
        self.sample_rate = sample_rate
        self.samples: dict[int, dict[int, np.ndarray]] = {}
        for folder in folders:
            for path in sorted(folder.glob("*")):
                key = key_of(path.stem)
                if key is not None:
                    self.samples.setdefault(key[1], {})[key[0]] = load_audio(path, sample_rate).audio
        if not self.samples:
            raise ValueError(f"no piano samples named like 'C4v8.mp3' or 'Cs4.mp3' in {[str(f) for f in folders]}")
        self.layers = np.array(sorted(self.samples))

    def layer_for(self, velocity: int) -> int:
        """The recorded layer nearest to velocity, with layers spread evenly over 1-127."""
        top = self.layers.max()
        return int(self.layers[np.argmin(np.abs(self.layers - velocity * top / 127.0))])

    def voice(self, note: Note) -> np.ndarray:
        """The note's waveform: nearest recorded key resampled by 2^(semitones/12), damped after note-off."""
        keys = self.samples[self.layer_for(note.velocity)]
        nearest = min(keys, key=lambda k: (abs(k - note.pitch), k))
        source, ratio = keys[nearest], 2.0 ** ((note.pitch - nearest) / 12.0)
        held = max(note.duration, 0.0)
        length = min(int((held + TAIL_S) * self.sample_rate), int((source.size - 1) / ratio))
        t = np.arange(length) / self.sample_rate
        wave = np.interp(np.arange(length) * ratio, np.arange(source.size), source)
        return wave * np.exp(-np.maximum(t - held, 0.0) / RELEASE_S)

    def render(self, notes: list[Note]) -> np.ndarray:
        """Sum of the notes' voices at their onsets."""
        if not notes:
            return np.zeros(0)
        voices = [(int(round(n.start * self.sample_rate)), self.voice(n)) for n in notes]
        out = np.zeros(max(s + v.size for s, v in voices))
        for start, v in voices:
            out[start : start + v.size] += v
        return out


def midi_notes(midi: Path) -> list[Note]:
    """The notes of a MIDI file, at its tempi (music21's seconds map)."""
    from music21 import chord, converter, note

    score = converter.parse(str(midi))
    notes = []
    for e in score.flatten().secondsMap:
        el = e["element"]
        if not isinstance(el, (note.Note, chord.Chord)):
            continue
        velocity = el.volume.velocity or 80
        for p in el.pitches:
            notes.append(Note(int(p.midi), int(velocity), float(e["offsetSeconds"]), float(e["durationSeconds"])))
    return notes

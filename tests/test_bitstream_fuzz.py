"""Damaged streams only ever raise BitstreamError, quickly (hypothesis, >= 1000 cases in all)."""

import struct
import zlib

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dps.codec import BitstreamError, encode, parse
from dps.codec.bitstream import MAGIC

SETTINGS = dict(deadline=2000, suppress_health_check=[HealthCheck.too_slow], derandomize=True)
_x = np.sin(np.arange(22050) * 0.05) * 0.2 + np.random.default_rng(0).standard_normal(22050) * 0.02
STREAM = encode(_x, 16)
HEADER_END = 4 + struct.calcsize("<BBIHB") + 2 * 20 + struct.calcsize("<HBHHhBHBHIQI4B")
HEADER_LEN = HEADER_END + 4  # through the header CRC (20 bands in the default layout)


def _parse_or_bitstream_error(data: bytes) -> None:
    try:
        m = parse(data)
    except BitstreamError:
        return
    assert np.all(np.isfinite(m.lower[m.coded])) and m.q.shape[1] == m.params.hop


def test_stream_layout_assumed_by_fuzzer():
    assert STREAM[:4] == MAGIC
    (crc,) = struct.unpack_from("<I", STREAM, HEADER_END)
    assert zlib.crc32(STREAM[:HEADER_END]) == crc
    parse(STREAM)


@settings(max_examples=300, **SETTINGS)
@given(st.integers(min_value=0, max_value=len(STREAM) - 1))
def test_truncation(n):
    with pytest.raises(BitstreamError):
        parse(STREAM[:n])


@settings(max_examples=300, **SETTINGS)
@given(st.lists(st.integers(min_value=0, max_value=8 * len(STREAM) - 1), min_size=1, max_size=8, unique=True))
def test_bit_flips(bits):
    data = bytearray(STREAM)
    for b in bits:
        data[b // 8] ^= 1 << (b % 8)
    with pytest.raises(BitstreamError):
        parse(bytes(data))


@settings(max_examples=200, **SETTINGS)
@given(st.binary(min_size=0, max_size=3000))
def test_random_bytes(data):
    with pytest.raises(BitstreamError):
        parse(data)


@settings(max_examples=200, **SETTINGS)
@given(st.binary(min_size=0, max_size=2000))
def test_random_payload_behind_valid_header(tail):
    _parse_or_bitstream_error(STREAM[:HEADER_LEN] + tail)


@settings(max_examples=300, **SETTINGS)
@given(st.integers(min_value=4, max_value=HEADER_END - 1), st.integers(min_value=0, max_value=255))
def test_header_edits_with_valid_checksum(pos, value):
    """Edit a header byte and repair its CRC: field validation must still hold."""
    head = bytearray(STREAM[:HEADER_END])
    head[pos] = value
    data = bytes(head) + struct.pack("<I", zlib.crc32(bytes(head))) + STREAM[HEADER_LEN:]
    _parse_or_bitstream_error(data)


def test_trailing_bytes_rejected():
    with pytest.raises(BitstreamError, match="trailing"):
        parse(STREAM + b"\0\0\0\0")

"""The measurement operator: an MDCT transform codec with a real bitstream, and its legacy decoder."""

from dps.codec.bitstream import BitstreamError, Payload, parse_payload, serialize
from dps.codec.encoder import analyze, encode, encode_payload
from dps.codec.legacy import decode_legacy, legacy_coefficients
from dps.codec.measurements import Measurements, measurements_from_payload, parse
from dps.codec.params import CodecParams, check_bitrate, load_codec_params

__all__ = [
    "BitstreamError",
    "CodecParams",
    "Measurements",
    "Payload",
    "analyze",
    "check_bitrate",
    "decode_legacy",
    "encode",
    "encode_payload",
    "legacy_coefficients",
    "load_codec_params",
    "measurements_from_payload",
    "parse",
    "parse_payload",
    "serialize",
]

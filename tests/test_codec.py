import numpy as np
import pytest

from dps.codec import CodecParams, analyze, decode_legacy, encode, encode_payload, parse, parse_payload, serialize
from dps.codec import allocation as al
from dps.codec.bitstream import bit_budget
from dps.eval.metrics import snr_db
from tests.conftest import CONTENT, load_fixture

BITRATES = (8, 16, 24, 32, 48)


@pytest.fixture(scope="module")
def coded():
    """Every fixture at every target rate: (audio, bytes)."""
    return {(name, kb): (x, encode(x, kb)) for name in CONTENT for x in [load_fixture(name)] for kb in BITRATES}


@pytest.mark.parametrize("name", CONTENT)
@pytest.mark.parametrize("kbps", BITRATES)
def test_bitrate_within_5_percent(coded, name, kbps):
    x, data = coded[(name, kbps)]
    assert x.size / 22050 >= 5.0
    measured = len(data) * 8 / (x.size / 22050) / 1000
    assert abs(measured / kbps - 1) <= 0.05, f"{name} at {kbps} kb/s measured {measured:.2f}"


@pytest.mark.parametrize("name", CONTENT)
@pytest.mark.parametrize("kbps", BITRATES)
def test_original_inside_every_interval(coded, name, kbps):
    x, data = coded[(name, kbps)]
    m = parse(data)
    coeffs = analyze(x, m.params)
    assert np.all((coeffs >= m.lower) & (coeffs <= m.upper))
    energy = al.band_group_energy(coeffs, m.params)
    assert np.all((energy >= m.energy_lower) & (energy <= m.energy_upper))
    assert m.coded.any() and not m.coded.all()


@pytest.mark.parametrize("name", CONTENT)
def test_legacy_snr_increases_with_bitrate(coded, name):
    snrs = [snr_db(x, decode_legacy(parse(data))) for kb in BITRATES for x, data in [coded[(name, kb)]]]
    assert all(b > a for a, b in zip(snrs, snrs[1:])), snrs
    assert snrs[1] > 10.0  # 16 kb/s is a waveform-matching rate


@pytest.mark.parametrize("name", CONTENT)
@pytest.mark.parametrize("kbps", BITRATES)
def test_parse_serialize_byte_identical(coded, name, kbps):
    _, data = coded[(name, kbps)]
    assert serialize(parse_payload(data)) == data


@pytest.mark.parametrize("kbps,limit", [(8, 0.40), (16, 0.30)])
def test_side_information_share(coded, kbps, limit):
    for name in CONTENT:
        _, data = coded[(name, kbps)]
        budget = bit_budget(data)
        assert budget["coefficients"] > 0
        assert budget["side_share"] <= limit, f"{name}: side information {budget['side_share']:.2f}"


@pytest.mark.parametrize("options", [{"dither": True, "dither_seed": 7}, {"deadzone": 0.2}])
def test_dither_and_deadzone_intervals_hold(options):
    x = load_fixture("music")[: 22050 * 2]
    params = CodecParams(**options)
    for kbps in (8, 32):
        data = encode(x, kbps, params)
        m = parse(data)
        coeffs = analyze(x, m.params)
        assert np.all((coeffs >= m.lower) & (coeffs <= m.upper))
        assert serialize(parse_payload(data)) == data
        assert snr_db(x, decode_legacy(m)) > 3.0


def test_any_rate_between_targets():
    x = load_fixture("speech")
    data = encode(x, 20.5)
    assert abs(len(data) * 8 / (x.size / 22050) / 20500 - 1) < 0.05


@pytest.mark.parametrize("bad", [0, 7.9, 48.5, -16, float("nan"), "abc"])
def test_bad_bitrate_rejected(bad):
    with pytest.raises(ValueError, match="bitrate"):
        encode(np.zeros(1000), bad)


def test_silence_and_short_signals():
    for x in (np.zeros(5000), np.full(3, 0.1), np.zeros(1)):
        m = parse(encode(x, 16))
        y = decode_legacy(m)
        assert y.shape == x.shape and np.all(np.isfinite(y))


def test_header_carries_codec_parameters():
    params = CodecParams(hop=128, band_widths=(4, 4, 8, 8, 16, 32), env_group=2, block_frames=32)
    x = load_fixture("piano")[:22050]
    pl = encode_payload(x, 24, params)
    m = parse(serialize(pl))
    assert m.params.hop == 128 and m.params.band_widths == params.band_widths and m.params.env_group == 2
    coeffs = analyze(x, m.params)
    assert np.all((coeffs >= m.lower) & (coeffs <= m.upper))


def test_legacy_fill_factor_changes_only_zero_bins():
    x = load_fixture("speech")[: 22050 * 2]
    m = parse(encode(x, 16))
    from dps.codec import legacy_coefficients

    a, b = legacy_coefficients(m, 0.0), legacy_coefficients(m, 1.0)
    nz = m.q != 0
    assert np.array_equal(a[nz], b[nz])
    assert np.sum(b[~nz] ** 2) > np.sum(a[~nz] ** 2)
    assert np.all((b >= m.lower) & (b <= m.upper) | ~m.coded)

import pytest
import torch

from dps.dsp import imdct, mdct


@pytest.mark.parametrize("length", [1, 255, 256, 1000, 22050])
def test_round_trip_float64(length):
    x = torch.randn(2, length, dtype=torch.float64, generator=torch.Generator().manual_seed(length))
    y = imdct(mdct(x), length)
    assert ((y - x).norm() / x.norm()).item() < 1e-12


def test_round_trip_float32():
    x = torch.randn(4, 22050, generator=torch.Generator().manual_seed(0))
    y = imdct(mdct(x), 22050)
    assert ((y - x).norm() / x.norm()).item() < 1e-6


def test_orthonormal_energy_and_adjoint():
    g = torch.Generator().manual_seed(1)
    x = torch.randn(5000, dtype=torch.float64, generator=g)
    coeffs = mdct(x)
    assert abs(coeffs.norm().item() / x.norm().item() - 1) < 1e-12  # Parseval on the interior
    other = torch.randn(coeffs.shape, dtype=torch.float64, generator=g)
    lhs = (coeffs * other).sum()
    rhs = (x * imdct(other, 5000)).sum()
    assert abs((lhs - rhs).item()) < 1e-9  # imdct is the exact adjoint of mdct


def test_white_noise_stays_white():
    x = torch.randn(200_000, dtype=torch.float64, generator=torch.Generator().manual_seed(2)) * 0.3
    coeffs = mdct(x)[1:-1]
    assert abs(coeffs.std().item() - 0.3) < 0.005


def _basis_mdct(x: torch.Tensor, hop: int) -> torch.Tensor:
    """The definition: frames times the windowed DCT-IV basis (the odd-hop path and the reference)."""
    from dps.dsp.mdct import _basis, mdct_num_frames

    frames = mdct_num_frames(x.shape[-1], hop)
    xp = torch.nn.functional.pad(x, (hop, (frames + 1) * hop - hop - x.shape[-1]))
    blocks = xp.reshape(*x.shape[:-1], frames + 1, hop)
    return torch.cat([blocks[..., :-1, :], blocks[..., 1:, :]], dim=-1) @ _basis(hop, x.dtype, "cpu")


@pytest.mark.parametrize("hop", [16, 17, 128, 256, 1024])
def test_fft_mdct_equals_the_basis_definition(hop):
    g = torch.Generator().manual_seed(hop)
    x = torch.randn(2, 3000, dtype=torch.float64, generator=g)
    ref = _basis_mdct(x, hop)
    got = mdct(x, hop)
    assert ((got - ref).norm() / ref.norm()).item() < 1e-12  # the basis's own cos rounding grows with the hop
    other = torch.randn(ref.shape, dtype=torch.float64, generator=g)
    # the FFT synthesis is the adjoint of the basis analysis: <T x, c> = <x, T^T c>
    assert abs(((ref * other).sum() - (x * imdct(other, 3000)).sum()).item()) < 1e-9
    x32 = x.float()
    got32 = mdct(x32, hop)
    assert got32.dtype == torch.float32
    assert ((got32.double() - ref).norm() / ref.norm()).item() < 1e-6


def test_low_precision_input_is_transformed_in_float32_and_keeps_its_dtype():
    x = torch.randn(1, 2000, generator=torch.Generator().manual_seed(3)).bfloat16()
    c = mdct(x)
    assert c.dtype == torch.bfloat16
    torch.testing.assert_close(c.float(), mdct(x.float()).bfloat16().float())
    assert imdct(c, 2000).dtype == torch.bfloat16

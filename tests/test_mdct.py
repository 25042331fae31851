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

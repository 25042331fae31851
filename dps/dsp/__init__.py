"""Signal basics shared by the codec and the MDCT-domain prior."""

from dps.dsp.mdct import MDCT, imdct, mdct, mdct_num_frames

__all__ = ["MDCT", "imdct", "mdct", "mdct_num_frames"]

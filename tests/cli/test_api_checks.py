"""Rules a notebook user gets from the API, before any work, as the command does."""

import pytest

from lilyvae.errors import LilyVAEError
from lilyvae.model.checkpoint import check_checkpoint_output
from lilyvae.workers import check_backend


def test_a_checkpoint_name_is_checked_before_training(tmp_path):
    table = tmp_path / "t.csv"
    table.write_text("x\n")
    with pytest.raises(LilyVAEError, match="must end in .pt"):
        check_checkpoint_output(tmp_path / "model.bin")
    with pytest.raises(LilyVAEError, match="synthetic sidecar"):
        check_checkpoint_output(tmp_path / "t.synthetic.pt")
    with pytest.raises(LilyVAEError, match="overwrite"):
        check_checkpoint_output(tmp_path / "t.pt", {"--data": tmp_path / "t.json"})
    assert check_checkpoint_output(tmp_path / "m.pt") == tmp_path / "m.pt"


def test_a_ray_address_needs_the_ray_backend():
    with pytest.raises(LilyVAEError, match="--ray-address needs --backend ray"):
        check_backend("local", "127.0.0.1:6379")
    with pytest.raises(LilyVAEError, match="unknown backend"):
        check_backend("slurm")
    check_backend("local")

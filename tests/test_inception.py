"""Tests for gankit.inception: the standard FID, and why it cannot run here."""

from __future__ import annotations

import sys

import pytest
import torch

from gankit.inception import InceptionUnavailableError, inception_fid

N = 1000


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: inception_fid(torch.zeros(N, 1, 32, 32), n=N, batch_size=0), "batch"),
        (lambda: inception_fid(torch.zeros(N, 1, 32, 32), n=N, device="gpu"), "device"),
    ],
)
def test_bad_input_raises_a_clear_value_error(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_inception_fid_says_why_it_cannot_run(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch_fidelity", None)  # not installed
    with pytest.raises(InceptionUnavailableError, match="torch-fidelity"):
        inception_fid(torch.zeros(N, 1, 32, 32), "mnist", N)

"""Where the work runs (``gankit.runtime``): the device a run uses and the CPU
threads torch takes."""

import pytest
import torch

from gankit.runtime import one_thread, resolve_device


def test_one_thread_puts_the_thread_count_back_even_after_an_error():
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        with pytest.raises(RuntimeError, match="boom"), one_thread():
            assert torch.get_num_threads() == 1
            raise RuntimeError("boom")
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)


def test_device_auto_and_missing_cuda():
    assert resolve_device("cpu").type == "cpu"
    assert resolve_device("auto").type == (
        "cuda" if torch.cuda.is_available() else "cpu"
    )
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="no CUDA GPU"):
            resolve_device("cuda")


@pytest.mark.parametrize("name", ["gpu", "cuda:x", 3.5])
def test_a_device_torch_does_not_know_is_refused_by_name(name):
    with pytest.raises(ValueError, match="device must be 'auto', 'cpu', 'cuda'"):
        resolve_device(name)

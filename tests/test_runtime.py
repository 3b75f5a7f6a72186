"""Where the work runs (``gankit.runtime``); ``resolve_device`` is tested with
the Trainer that uses it, in ``tests/test_trainer.py``."""

import pytest
import torch

from gankit.runtime import one_thread


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

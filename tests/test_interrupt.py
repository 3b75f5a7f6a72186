"""Ctrl-C, SIGTERM and SIGHUP ask a run to stop (``gankit.interrupt``).

A whole run stopped by SIGTERM is tested through the command line in
``tests/test_cli.py``, and under torchrun in ``tests/test_distributed.py``.
"""

from __future__ import annotations

import os
import signal
import threading

import pytest

from gankit.interrupt import STOP_SIGNALS, StopSignals, TrainingInterrupted, signal_name


def test_the_stop_signals_are_ctrl_c_sigterm_and_sighup():
    assert signal.SIGINT in STOP_SIGNALS and signal.SIGTERM in STOP_SIGNALS
    if hasattr(signal, "SIGHUP"):
        assert signal.SIGHUP in STOP_SIGNALS


def test_a_signal_inside_asks_to_stop_instead_of_ending_the_process():
    with StopSignals() as stop:
        assert stop.received is None
        os.kill(os.getpid(), signal.SIGTERM)
        assert stop.received == signal.SIGTERM


def test_the_same_signal_twice_acts_at_once_as_it_would_without_gankit():
    with StopSignals() as stop:
        os.kill(os.getpid(), signal.SIGINT)
        assert stop.received == signal.SIGINT
        with pytest.raises(KeyboardInterrupt):
            os.kill(os.getpid(), signal.SIGINT)


def test_another_signal_while_stopping_is_ignored():
    # torchrun passes a terminal's Ctrl-C on as SIGTERM: the save must not be cut.
    with StopSignals() as stop:
        os.kill(os.getpid(), signal.SIGINT)
        os.kill(os.getpid(), signal.SIGTERM)  # would end the process otherwise
        assert stop.received == signal.SIGINT


def test_the_handlers_are_put_back_after_the_block():
    before = {s: signal.getsignal(s) for s in STOP_SIGNALS}
    with StopSignals():
        assert signal.getsignal(signal.SIGTERM) != before[signal.SIGTERM]
    assert {s: signal.getsignal(s) for s in STOP_SIGNALS} == before


@pytest.mark.skipif(not hasattr(signal, "SIGHUP"), reason="no SIGHUP here")
def test_a_signal_the_process_ignores_stays_ignored():
    # nohup starts a run with SIGHUP ignored: closing the terminal must not stop it
    before = signal.signal(signal.SIGHUP, signal.SIG_IGN)
    try:
        with StopSignals() as stop:
            assert signal.getsignal(signal.SIGHUP) is signal.SIG_IGN
            os.kill(os.getpid(), signal.SIGHUP)
            assert stop.received is None
        assert signal.getsignal(signal.SIGHUP) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGHUP, before)


def test_off_the_main_thread_nothing_is_installed():
    before = signal.getsignal(signal.SIGTERM)
    seen = []

    def body():
        with StopSignals() as stop:
            seen.append((signal.getsignal(signal.SIGTERM), stop.received))

    t = threading.Thread(target=body)
    t.start()
    t.join()
    assert seen == [(before, None)]


@pytest.mark.parametrize(
    ("signum", "status", "name"),
    [
        (signal.SIGINT, 130, "SIGINT"),
        (signal.SIGTERM, 143, "SIGTERM"),
        (None, 130, "a signal"),
    ],
)
def test_an_interrupted_run_exits_with_the_shells_status(signum, status, name):
    exc = TrainingInterrupted("saved step 3 to run", signum=signum, step=3)
    assert isinstance(exc, KeyboardInterrupt)
    assert exc.exit_status == status and exc.step == 3
    assert signal_name(signum) == name

"""A run folder belongs to one trainer at a time (``gankit.runfolder``)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

import pytest

from gankit.runfolder import (
    LOCK_NAME,
    RunFolderBusyError,
    claimed,
    remove_partials,
    run_folder,
)

HOLD = textwrap.dedent(
    """
    import sys, time
    from gankit.runfolder import claimed
    with claimed(sys.argv[1]):
        print("held", flush=True)
        time.sleep(120)
    """
)


@pytest.fixture
def holder(tmp_path):
    """Another process that holds ``tmp_path / "run"`` until it is killed."""
    folder = tmp_path / "run"
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(folder)], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout.readline().strip() == "held"
    yield folder, proc
    proc.kill()
    proc.wait(timeout=30)


def test_a_folder_held_by_another_process_is_refused_naming_it_and_its_pid(holder):
    folder, proc = holder
    with pytest.raises(RunFolderBusyError) as caught, claimed(folder):
        pass
    assert str(folder) in str(caught.value)
    assert f"process {proc.pid}" in str(caught.value)


def test_the_lock_of_a_killed_process_does_not_block_the_folder(holder):
    folder, proc = holder
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    assert (folder / LOCK_NAME).exists()  # the file stays; its lock went with it
    with claimed(folder) as f:
        assert f == folder
        assert (folder / LOCK_NAME).read_text().strip() == str(os.getpid())


def test_a_claim_inside_a_claim_of_this_process_shares_the_lock(tmp_path):
    with claimed(tmp_path) as outer, claimed(tmp_path) as inner:
        assert outer == inner == tmp_path
    # all released: another process can take it now
    other = subprocess.run(
        [sys.executable, "-c", HOLD.replace("time.sleep(120)", "pass"), str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert other.returncode == 0 and "held" in other.stdout, other.stderr


def test_taking_a_folder_removes_the_partial_files_a_killed_writer_left(tmp_path):
    stale = [
        tmp_path / ".checkpoint.pt.3f9a01bc.partial",
        tmp_path / "samples" / ".latest.png.5e1f00aa.partial",
    ]
    stale[1].parent.mkdir()
    for p in stale:
        p.write_bytes(b"half a file")
    kept = [tmp_path / "checkpoint.pt", tmp_path / "notes.partial.txt"]
    for p in kept:
        p.write_bytes(b"whole")
    with claimed(tmp_path):
        assert not any(p.exists() for p in stale)
        assert all(p.read_bytes() == b"whole" for p in kept)


def test_only_gankits_own_partial_files_are_removed(tmp_path):
    # another program's temporary file, and a run folder nested in this one
    # whose trainer may be writing right now
    foreign = tmp_path / ".download.partial"
    nested = tmp_path / "exp1"
    nested.mkdir()
    (nested / LOCK_NAME).touch()
    live = nested / ".checkpoint.pt.1234abcd.partial"
    for p in (foreign, live):
        p.write_bytes(b"someone else's")
    with claimed(tmp_path):
        assert foreign.exists() and live.exists()


def test_a_failed_claim_releases_the_lock(tmp_path, monkeypatch):
    import gankit.runfolder

    def broken(folder):
        raise PermissionError("cannot list the folder")

    monkeypatch.setattr(gankit.runfolder, "remove_partials", broken)
    with pytest.raises(PermissionError), claimed(tmp_path):
        pass
    monkeypatch.undo()
    with claimed(tmp_path):  # not refused as held by this very process
        pass


def test_a_file_system_that_cannot_lock_is_used_with_a_warning(tmp_path, monkeypatch):
    import errno

    import gankit.runfolder

    def no_locks(fd, op):
        raise OSError(errno.ENOLCK, "No locks available")

    monkeypatch.setattr(gankit.runfolder.fcntl, "flock", no_locks)
    with pytest.warns(RuntimeWarning, match="cannot be locked"), claimed(tmp_path):
        pass


def test_remove_partials_names_what_it_removed(tmp_path):
    p = tmp_path / ".checkpoint.pt.00000000.partial"
    p.touch()
    assert remove_partials(tmp_path) == [p]
    assert remove_partials(tmp_path) == []


def test_a_path_that_cannot_be_a_folder_is_refused_before_anything_runs(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(ValueError, match="cannot be a folder for the run"):
        run_folder(blocker / "run")
    with pytest.raises(ValueError, match="cannot be a folder"), claimed(blocker):
        pass

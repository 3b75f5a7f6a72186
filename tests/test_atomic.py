"""Files written whole or not at all (``gankit.atomic``)."""

from __future__ import annotations

from gankit.atomic import PARTIAL_NAME, temporary_beside


def test_a_temporary_file_is_new_empty_and_beside_its_target(tmp_path):
    target = tmp_path / "checkpoint.pt"
    a, b = temporary_beside(target), temporary_beside(target)
    assert a != b and a.parent == b.parent == tmp_path
    assert a.read_bytes() == b"" and not target.exists()


def test_the_partial_name_matches_gankits_temporary_files_and_nothing_else():
    assert PARTIAL_NAME.match(".checkpoint.pt.3f9a01bc.partial")
    assert PARTIAL_NAME.match(".latest.png.00ff00ff.partial")
    for name in (
        ".download.partial",
        "checkpoint.pt",
        ".x.3F9A01BC.partial",
        "notes.partial.txt",
        ".x.123.partial",
    ):
        assert not PARTIAL_NAME.match(name), name


def test_every_name_it_makes_is_recognised(tmp_path):
    for name in ("checkpoint.pt", "latest.png", "mnist_generator.json"):
        assert PARTIAL_NAME.match(temporary_beside(tmp_path / name).name)

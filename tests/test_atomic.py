import os

import pytest

from dnaf.io.atomic import atomic_write


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    path = tmp_path / "out.txt"
    path.write_text("old")
    with pytest.raises(RuntimeError), atomic_write(path) as handle:
        handle.write("half")
        raise RuntimeError("crash")
    assert path.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]


def test_a_completed_write_replaces_the_file(tmp_path):
    path = tmp_path / "sub" / "out.txt"
    with atomic_write(path) as handle:
        handle.write("new")
    assert path.read_text() == "new"
    umask = os.umask(0)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask


def test_a_failed_folder_write_leaves_the_old_folder_and_no_staging(tmp_path):
    from dnaf.io.atomic import atomic_folder

    folder = tmp_path / "model"
    with atomic_folder(folder) as staging:
        (staging / "weights").write_text("v1")
    with pytest.raises(RuntimeError), atomic_folder(folder) as staging:
        (staging / "weights").write_text("half of v2")
        raise RuntimeError("crash")
    assert (folder / "weights").read_text() == "v1"
    assert [p.name for p in tmp_path.iterdir()] == ["model"]

"""Issue 20, point 4: a second `train` into a directory holding a run is refused unless
--resume or --overwrite; a start that fails leaves no directory behind."""
from __future__ import annotations

from gaunt_md.train import read_checkpoint


def test_second_run_into_the_same_directory_is_refused(no_plots, write_config, gaunt_md, tmp_path, capsys):
    config = write_config(tmp_path, optim={"max_epochs": 1})
    assert gaunt_md("train", config) == 0
    best = (tmp_path / "run" / "best.pt").read_bytes()
    capsys.readouterr()

    assert gaunt_md("train", config) == 2
    err = capsys.readouterr().err
    assert "already holds a run" in err and "--resume" in err and "--overwrite" in err
    assert (tmp_path / "run" / "best.pt").read_bytes() == best

    assert gaunt_md("train", config, "--overwrite", "--max-epochs", 2) == 0
    assert read_checkpoint(tmp_path / "run" / "best.pt")["epoch"] >= 1
    assert read_checkpoint(tmp_path / "run" / "last.pt")["epoch"] == 2
    assert gaunt_md("train", config, "--resume", "--overwrite") == 2
    assert "exclude each other" in capsys.readouterr().err


def test_a_failed_start_leaves_no_directory(write_config, gaunt_md, dataset, tmp_path, capsys):
    """The error comes from the data (an E0 missing), after the config passed its checks."""
    import ase.io

    iso = ase.io.read(dataset["iso"], index=":")
    partial = tmp_path / "iso_partial.xyz"
    ase.io.write(partial, [a for a in iso if a.get_chemical_symbols() != ["N"]], format="extxyz")
    assert gaunt_md("train", write_config(tmp_path, data={"e0s_file": str(partial)})) == 2
    assert "no isolated-atom energy" in capsys.readouterr().err
    assert not (tmp_path / "run").exists()


def test_a_failed_init_from_leaves_no_directory(trained_run, write_config, gaunt_md, tmp_path, capsys):
    config = write_config(tmp_path, init_from=str(trained_run / "best.pt"), model={"channels": 6})
    assert gaunt_md("train", config) == 2
    assert "different shapes" in capsys.readouterr().err
    assert not (tmp_path / "run").exists()

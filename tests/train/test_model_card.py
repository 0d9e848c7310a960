"""`gaunt-md card`: a model card whose numbers are the checkpoint's."""
import json

from gaunt_md.train.checkpoint import read_checkpoint


def test_card_reports_the_best_epoch(trained_run, log_rows, gaunt_md, tmp_path):
    notes = tmp_path / "notes.md"
    notes.write_text("Trained for a test.")
    card = tmp_path / "card.md"
    assert gaunt_md("card", trained_run / "best.pt", "-o", card, "--title", "Test card", "--notes", notes) == 0
    text = card.read_text()
    best = read_checkpoint(trained_run / "best.pt")
    row = log_rows(trained_run)[best["epoch"] - 1]
    assert text.startswith("# Test card")
    assert f"| F RMSE (meV/A) | {row['f_rmse_meV_per_A']:.2f} |" in text
    assert f"| E RMSE (meV) | {row['e_rmse_meV']:.2f} |" in text
    assert f"best at epoch {best['epoch']}" in text
    assert "Trained for a test." in text and '"channels": 4' in text


def test_card_names_extra_training_frames_and_the_warm_start(trained_run, write_config, dataset, gaunt_md, tmp_path):
    """A fine-tuned model's card says which checkpoint it started from and which frames were
    added to the training file."""
    config = write_config(tmp_path, init_from=str(trained_run / "best.pt"),
                          data={"extra_train_files": [str(dataset["train"])]}, optim={"max_epochs": 1})
    assert gaunt_md("train", config) == 0
    card = tmp_path / "card.md"
    assert gaunt_md("card", tmp_path / "run" / "best.pt", "-o", card) == 0
    text = card.read_text()
    assert f"| more training frames | `{dataset['train']}` (trained on, never validated on) |" in text
    assert f"| started from | `{trained_run / 'best.pt'}`" in text
    plain = tmp_path / "plain.md"
    assert gaunt_md("card", trained_run / "best.pt", "-o", plain) == 0
    assert "more training frames" not in plain.read_text() and "started from" not in plain.read_text()


def test_card_states_the_seed_of_the_split(trained_run, write_config, gaunt_md, tmp_path):
    """With data.split_seed set, the validation frames follow it, not the run's seed: the card
    says so; without it the run's seed."""
    config = write_config(tmp_path, seed=5, data={"split_seed": 11}, optim={"max_epochs": 1})
    assert gaunt_md("train", config) == 0
    card = tmp_path / "card.md"
    assert gaunt_md("card", tmp_path / "run" / "best.pt", "-o", card) == 0
    assert "validation frames held out, seed 11 " in card.read_text()
    plain = tmp_path / "plain.md"
    assert gaunt_md("card", trained_run / "best.pt", "-o", plain) == 0
    run_seed = json.loads(read_checkpoint(trained_run / "best.pt")["train_config"])["seed"]
    assert f"validation frames held out, seed {run_seed} " in plain.read_text()

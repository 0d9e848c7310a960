"""`gaunt-md card`: a model card whose numbers are the checkpoint's."""
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

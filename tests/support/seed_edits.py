"""The shipped seed files, and editing copies of them in tests (the real files stay untouched)."""

import shutil
from pathlib import Path

import yaml
from django.conf import settings

SEEDS = Path(settings.JAKMONITOR["SEED_DIR"])


def copy_seeds(tmp_path: Path) -> Path:
    target = tmp_path / "seeds"
    shutil.copytree(SEEDS, target)
    return target


def edit_yaml(path: Path, change) -> None:
    data = yaml.safe_load(path.read_text())
    change(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))


def rule_in(data, rule_id):
    for section in (
        "monitoring",
        "thresholds",
        "screening",
        "dose_advice",
        "infection",
        "routine",
        "additional",
    ):
        for item in data.get(section, []):
            if item.get("id") == rule_id:
                return item
    raise KeyError(rule_id)

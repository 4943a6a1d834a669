"""Writes a Snakemake profile: a base profile's config.yaml with an overlay laid on top.

Mappings (set-resources, set-threads, default-resources, …) are merged key by key, so the overlay
changes single entries and the rest of the base profile stays as it is.
Usage: python layer_profile.py BASE_PROFILE_DIR OVERLAY.yaml OUT_PROFILE_DIR
"""

import sys
from pathlib import Path

import yaml


def merge(base, overlay):
    if isinstance(base, dict) and isinstance(overlay, dict):
        merged = dict(base)
        for key, value in overlay.items():
            merged[key] = merge(base[key], value) if key in base else value
        return merged
    return overlay


def main(base_dir: str, overlay_file: str, out_dir: str) -> None:
    base = yaml.safe_load((Path(base_dir) / "config.yaml").read_text())
    overlay = yaml.safe_load(Path(overlay_file).read_text())
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "config.yaml").write_text(yaml.safe_dump(merge(base, overlay), sort_keys=False))


if __name__ == "__main__":
    main(*sys.argv[1:])

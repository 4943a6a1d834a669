"""Command line: ``python -m swimscale correlate RECALL_TSV OUT_DIR [options]`` (also ``swimscale``), and
``python -m swimscale plan --configfile CONFIG [--device h100|a100|l4|cpu]`` (the study's cost, before launch).

The options' defaults are the config schema's ``analysis`` section (:func:`swimscale.config.defaults`).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from swimscale.analysis import InputError, output_paths, read_recall_table, run
from swimscale.config import defaults

# Option -> (config key, type, metavar, help)
_SETTINGS = {
    "--target-recall": ("target_recall", float, "X", "Recall@50 whose N the learning curve reports"),
    "--n-boot": ("n_boot", int, "N", "bootstrap resamples for the CIs"),
    "--n-boot-fit": ("n_boot_fit", int, "N", "of those, how many refit the learning curve"),
    "--seed": ("seed", int, "S", "bootstrap seed"),
    "--level": ("level", float, "L", "confidence level of every interval"),
}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="swimscale", description="swimscale analysis commands")
    commands = parser.add_subparsers(dest="command", required=True)
    correlate = commands.add_parser(
        "correlate",
        help="correlations, learning curves, slopes across languages, plots and summary.md from a recall table",
        description=(
            "Analyse a recall table: at least the columns language, benchmark, method, size, seed and "
            "recall_at_50 (results/tables/recall.tsv has more: secondary metrics add rows; run_file and "
            "qrels_file add the query bootstrap and the log2 rank metric). Run and qrels paths are resolved "
            "against the current directory, then against the table's directory. Writes "
            "OUT_DIR/tables/*.{tsv,md,tex}, OUT_DIR/plots/*.{png,svg}, OUT_DIR/summary.md and the across-language "
            "tables OUT_DIR/across_languages.tsv, OUT_DIR/moderators.tsv and OUT_DIR/method_contrasts.tsv (optional "
            "columns tier, benchmark_family and the moderators joshi_class, mbert_pretraining, tokenizer_fertility, "
            "unk_rate). Defaults: the "
            "config schema's analysis section."
        ),
    )
    correlate.add_argument("recall_tsv", type=Path, metavar="RECALL_TSV")
    correlate.add_argument("out_dir", type=Path, metavar="OUT_DIR")
    correlate.add_argument(
        "--tiers", type=Path, default=None, metavar="TSV",
        help="language tiers (columns code, tier); missing: every language in tier 'unknown'",
    )
    correlate.add_argument(
        "--literature", type=Path, default=None, metavar="TSV",
        help="published points (config/literature.tsv): adds tables/literature.*, plots/literature.* and a summary section",
    )
    correlate.add_argument(
        "--moderator-values", type=Path, default=None, metavar="TSV",
        help="the workflow's tables/moderator_values.tsv (tokenizer fertility, [UNK] rate per language and "
        "benchmark), joined to the table for the moderators; joshi_class and mbert_pretraining come from --tiers",
    )
    _plan_parser(commands)
    schema = defaults("analysis")
    for option, (key, kind, metavar, text) in _SETTINGS.items():
        correlate.add_argument(
            option, dest=key, type=kind, default=schema[key], metavar=metavar, help=f"{text} (default %(default)s)"
        )
    return parser


def _plan_parser(commands) -> None:
    plan = commands.add_parser("plan", help="jobs, updates, FLOPs, GPU-hours, memory and disk of a study, before launch")
    plan.add_argument("--configfile", type=Path, required=True, metavar="YAML")
    plan.add_argument("--device", default="h100", help="a row of swimscale/plan/devices.tsv (default %(default)s)")


def _plan(args) -> int:
    import yaml

    from swimscale.config import validated
    from swimscale.plan import describe, plan, read_devices

    devices = read_devices()
    if args.device not in devices:
        print(f"swimscale plan: error: unknown device {args.device!r}; known: {', '.join(devices)}", file=sys.stderr)
        return 2
    config = validated(yaml.safe_load(args.configfile.read_text(encoding="utf-8")))
    print(describe(plan(config, devices[args.device])))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "plan":
        return _plan(args)
    try:
        recall = read_recall_table(args.recall_tsv)
        if args.tiers is not None and not args.tiers.exists():
            print(f"swimscale {args.command}: warning: {args.tiers} not found; every language in tier 'unknown'", file=sys.stderr)
        paths = output_paths(args.out_dir, literature=args.literature is not None, flat=True)
        if paths["recall"].resolve() == args.recall_tsv.resolve():
            del paths["recall"]  # analysing results/ in place: leave the input table alone
        settings = {key: getattr(args, key) for key, *_ in _SETTINGS.values()}
        run(
            recall, paths, table_dir=args.recall_tsv.parent, tiers_path=args.tiers, settings=settings,
            literature_path=args.literature, moderator_values_path=args.moderator_values,
        )
    except InputError as error:
        print(f"swimscale {args.command}: error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())

# The analysis settings are the config's `analysis` section (defaults in the schema, which are also
# those of `python -m swimscale correlate`).
# Resource tiers (columns code, tier), optional: in the working directory, else in the checkout.
# Without the file every language is in tier 'unknown'.
TIERS_CANDIDATES = [
    Path("config/languages.tsv"),
    Path(workflow.basedir) / "config" / "languages.tsv",
]
# Published points set beside our curve (the literature table, plot and summary section): looked for
# like the tiers. Without the file the literature outputs say that no table was given.
LITERATURE_CANDIDATES = [
    Path("config/literature.tsv"),
    Path(workflow.basedir) / "config" / "literature.tsv",
]
# Each walks every point of the sweep (and, with `partial: true`, checks files): computed once.
TABLE_REPORTS = table_reports()
TABLE_COLLECTIONS = table_collections()


rule correlate:
    input:
        # Each point's run, metrics and training log, as the jobs that made them output them.
        evaluations=sorted(
            {path for point in sweep_points() for path in point["outputs"]}
        ),
        reports=sorted(TABLE_REPORTS.values()),
        collections=sorted(set(TABLE_COLLECTIONS.values())),
        qrels=sorted({point["qrels_file"] for point in sweep_points()}),
        tiers=lambda wildcards: [str(p) for p in TIERS_CANDIDATES if p.is_file()][:1],
        literature=lambda wildcards: [
            str(p) for p in LITERATURE_CANDIDATES if p.is_file()
        ][:1],
    output:
        recall=report(
            f"{RESULTS}/tables/recall.tsv",
            caption="../report/recall.rst",
            category="Tables",
            subcategory="TSV",
        ),
        correlation=report(
            f"{RESULTS}/tables/correlation.tsv",
            caption="../report/correlation.rst",
            category="Tables",
            subcategory="TSV",
        ),
        correlation_md=report(
            f"{RESULTS}/tables/correlation.md",
            caption="../report/correlation.rst",
            category="Tables",
            subcategory="Markdown",
        ),
        correlation_tex=report(
            f"{RESULTS}/tables/correlation.tex",
            caption="../report/correlation.rst",
            category="Tables",
            subcategory="LaTeX",
        ),
        by_size=report(
            f"{RESULTS}/tables/recall_by_size.tsv",
            caption="../report/recall_by_size.rst",
            category="Tables",
            subcategory="TSV",
        ),
        by_size_md=report(
            f"{RESULTS}/tables/recall_by_size.md",
            caption="../report/recall_by_size.rst",
            category="Tables",
            subcategory="Markdown",
        ),
        by_size_tex=report(
            f"{RESULTS}/tables/recall_by_size.tex",
            caption="../report/recall_by_size.rst",
            category="Tables",
            subcategory="LaTeX",
        ),
        curves=report(
            f"{RESULTS}/tables/learning_curves.tsv",
            caption="../report/learning_curves.rst",
            category="Tables",
            subcategory="TSV",
        ),
        curves_md=report(
            f"{RESULTS}/tables/learning_curves.md",
            caption="../report/learning_curves.rst",
            category="Tables",
            subcategory="Markdown",
        ),
        curves_tex=report(
            f"{RESULTS}/tables/learning_curves.tex",
            caption="../report/learning_curves.rst",
            category="Tables",
            subcategory="LaTeX",
        ),
        slopes=report(
            f"{RESULTS}/tables/slopes.tsv",
            caption="../report/slopes.rst",
            category="Tables",
            subcategory="TSV",
        ),
        slopes_md=report(
            f"{RESULTS}/tables/slopes.md",
            caption="../report/slopes.rst",
            category="Tables",
            subcategory="Markdown",
        ),
        slopes_tex=report(
            f"{RESULTS}/tables/slopes.tex",
            caption="../report/slopes.rst",
            category="Tables",
            subcategory="LaTeX",
        ),
        plot=report(
            f"{RESULTS}/plots/recall_vs_n.png",
            caption="../report/recall_vs_n.rst",
            category="Plots",
            subcategory="PNG",
        ),
        plot_svg=report(
            f"{RESULTS}/plots/recall_vs_n.svg",
            caption="../report/recall_vs_n.rst",
            category="Plots",
            subcategory="SVG",
        ),
        forest=report(
            f"{RESULTS}/plots/slope_forest.png",
            caption="../report/slope_forest.rst",
            category="Plots",
            subcategory="PNG",
        ),
        forest_svg=report(
            f"{RESULTS}/plots/slope_forest.svg",
            caption="../report/slope_forest.rst",
            category="Plots",
            subcategory="SVG",
        ),
        literature=report(
            f"{RESULTS}/tables/literature.tsv",
            caption="../report/literature.rst",
            category="Literature",
            subcategory="TSV",
        ),
        literature_md=report(
            f"{RESULTS}/tables/literature.md",
            caption="../report/literature.rst",
            category="Literature",
            subcategory="Markdown",
        ),
        literature_tex=report(
            f"{RESULTS}/tables/literature.tex",
            caption="../report/literature.rst",
            category="Literature",
            subcategory="LaTeX",
        ),
        literature_plot=report(
            f"{RESULTS}/plots/literature.png",
            caption="../report/literature_plot.rst",
            category="Literature",
            subcategory="PNG",
        ),
        literature_plot_svg=report(
            f"{RESULTS}/plots/literature.svg",
            caption="../report/literature_plot.rst",
            category="Literature",
            subcategory="SVG",
        ),
        across=report(
            f"{RESULTS}/tables/across_languages.tsv",
            caption="../report/across_languages.rst",
            category="Tables",
            subcategory="TSV",
        ),
        moderators=report(
            f"{RESULTS}/tables/moderators.tsv",
            caption="../report/moderators.rst",
            category="Tables",
            subcategory="TSV",
        ),
        contrasts=report(
            f"{RESULTS}/tables/method_contrasts.tsv",
            caption="../report/method_contrasts.rst",
            category="Tables",
            subcategory="TSV",
        ),
        across_plot=report(
            f"{RESULTS}/plots/across_languages.png",
            caption="../report/across_plot.rst",
            category="Plots",
            subcategory="PNG",
        ),
        across_plot_svg=report(
            f"{RESULTS}/plots/across_languages.svg",
            caption="../report/across_plot.rst",
            category="Plots",
            subcategory="SVG",
        ),
        summary=report(
            f"{RESULTS}/summary.md",
            caption="../report/summary.rst",
            category="Summary",
        ),
    log:
        f"{RESULTS}/logs/correlate/correlate.log",
    benchmark:
        f"{RESULTS}/timings/correlate/correlate.tsv"
    conda:
        "../../envs/analysis.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        disk_mb=500,
    params:
        points=sweep_points(),
        reports=TABLE_REPORTS,
        collections=TABLE_COLLECTIONS,
        budget=config["train"]["budget"],
        analysis=config["analysis"],
    script:
        "../scripts/correlate.py"

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
        # The measured moderators (moderator_values.smk), joined for the across-language moderators.
        moderator_values=[] if config["partial"] else LAYOUT.table("moderator_values"),
    output:
        recall=report(
            LAYOUT.table("recall"),
            caption="../report/recall.rst",
            category="Tables",
            subcategory="TSV",
        ),
        correlation=report(
            LAYOUT.table("correlation"),
            caption="../report/correlation.rst",
            category="Tables",
            subcategory="TSV",
        ),
        correlation_md=report(
            LAYOUT.table("correlation_md"),
            caption="../report/correlation.rst",
            category="Tables",
            subcategory="Markdown",
        ),
        correlation_tex=report(
            LAYOUT.table("correlation_tex"),
            caption="../report/correlation.rst",
            category="Tables",
            subcategory="LaTeX",
        ),
        by_size=report(
            LAYOUT.table("by_size"),
            caption="../report/recall_by_size.rst",
            category="Tables",
            subcategory="TSV",
        ),
        by_size_md=report(
            LAYOUT.table("by_size_md"),
            caption="../report/recall_by_size.rst",
            category="Tables",
            subcategory="Markdown",
        ),
        by_size_tex=report(
            LAYOUT.table("by_size_tex"),
            caption="../report/recall_by_size.rst",
            category="Tables",
            subcategory="LaTeX",
        ),
        curves=report(
            LAYOUT.table("curves"),
            caption="../report/learning_curves.rst",
            category="Tables",
            subcategory="TSV",
        ),
        curves_md=report(
            LAYOUT.table("curves_md"),
            caption="../report/learning_curves.rst",
            category="Tables",
            subcategory="Markdown",
        ),
        curves_tex=report(
            LAYOUT.table("curves_tex"),
            caption="../report/learning_curves.rst",
            category="Tables",
            subcategory="LaTeX",
        ),
        slopes=report(
            LAYOUT.table("slopes"),
            caption="../report/slopes.rst",
            category="Tables",
            subcategory="TSV",
        ),
        slopes_md=report(
            LAYOUT.table("slopes_md"),
            caption="../report/slopes.rst",
            category="Tables",
            subcategory="Markdown",
        ),
        slopes_tex=report(
            LAYOUT.table("slopes_tex"),
            caption="../report/slopes.rst",
            category="Tables",
            subcategory="LaTeX",
        ),
        plot=report(
            LAYOUT.table("plot"),
            caption="../report/recall_vs_n.rst",
            category="Plots",
            subcategory="PNG",
        ),
        plot_svg=report(
            LAYOUT.table("plot_svg"),
            caption="../report/recall_vs_n.rst",
            category="Plots",
            subcategory="SVG",
        ),
        forest=report(
            LAYOUT.table("forest"),
            caption="../report/slope_forest.rst",
            category="Plots",
            subcategory="PNG",
        ),
        forest_svg=report(
            LAYOUT.table("forest_svg"),
            caption="../report/slope_forest.rst",
            category="Plots",
            subcategory="SVG",
        ),
        literature=report(
            LAYOUT.table("literature"),
            caption="../report/literature.rst",
            category="Literature",
            subcategory="TSV",
        ),
        literature_md=report(
            LAYOUT.table("literature_md"),
            caption="../report/literature.rst",
            category="Literature",
            subcategory="Markdown",
        ),
        literature_tex=report(
            LAYOUT.table("literature_tex"),
            caption="../report/literature.rst",
            category="Literature",
            subcategory="LaTeX",
        ),
        literature_plot=report(
            LAYOUT.table("literature_plot"),
            caption="../report/literature_plot.rst",
            category="Literature",
            subcategory="PNG",
        ),
        literature_plot_svg=report(
            LAYOUT.table("literature_plot_svg"),
            caption="../report/literature_plot.rst",
            category="Literature",
            subcategory="SVG",
        ),
        across=report(
            LAYOUT.table("across"),
            caption="../report/across_languages.rst",
            category="Tables",
            subcategory="TSV",
        ),
        moderators=report(
            LAYOUT.table("moderators"),
            caption="../report/moderators.rst",
            category="Tables",
            subcategory="TSV",
        ),
        contrasts=report(
            LAYOUT.table("contrasts"),
            caption="../report/method_contrasts.rst",
            category="Tables",
            subcategory="TSV",
        ),
        across_plot=report(
            LAYOUT.table("across_plot"),
            caption="../report/across_plot.rst",
            category="Plots",
            subcategory="PNG",
        ),
        across_plot_svg=report(
            LAYOUT.table("across_plot_svg"),
            caption="../report/across_plot.rst",
            category="Plots",
            subcategory="SVG",
        ),
        summary=report(
            LAYOUT.table("summary"),
            caption="../report/summary.rst",
            category="Summary",
        ),
    log:
        LAYOUT.logs.correlate(),
    benchmark:
        LAYOUT.timings.correlate()
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
        budget=SETTINGS.train.budget,
        analysis=config["analysis"],
    script:
        "../scripts/correlate.py"

rule correlate:
    input:
        metrics=[point["metrics_file"] for point in sweep_points()],
        train_logs=[
            point["train_log"] for point in sweep_points() if point["train_log"]
        ],
    output:
        recall=report(
            f"{RESULTS}/tables/recall.tsv",
            caption="../report/recall.rst",
            category="Tables",
        ),
        correlation=report(
            f"{RESULTS}/tables/correlation.tsv",
            caption="../report/correlation.rst",
            category="Tables",
        ),
        plot=report(
            f"{RESULTS}/plots/recall_vs_n.png",
            caption="../report/recall_vs_n.rst",
            category="Plots",
        ),
    log:
        f"{RESULTS}/logs/correlate/correlate.log",
    benchmark:
        f"{RESULTS}/benchmarks/correlate/correlate.tsv"
    conda:
        "../../envs/analysis.yaml"
    threads: 1
    params:
        points=sweep_points(),
    script:
        "../scripts/correlate.py"

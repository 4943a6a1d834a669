# Scoring: each student's runs against the current judgements, apart from the search (which needs the
# student), so that a qrels edit of a test benchmark re-runs only these light jobs and what depends on
# them, not training. One job per trained student (all the test benchmarks of its language, written
# into its metrics folder) and one per (language, test benchmark) at N = 0: trec_eval's metrics per
# query and their means, from the run as written (swimscale.retrieval.evaluate_search). A trained
# student's job first checks that the overlap screen of its language saw every document now judged
# relevant, the same queries and the same dropped judgements (swimscale.data.check_screened; N = 0 saw no
# training data, so it does not wait for the language's pool); each checks that the queries are those
# searched; if not, it stops naming the file and the command that re-screens and retrains (or
# searches again). Local jobs: seconds each, no GPU.


localrules:
    evaluate,
    evaluate_zero_shot,


rule evaluate:
    input:
        unpack(evaluate_inputs),  # runs, screened, judged (queries, qrels, manifests)
    output:
        metrics=directory(LAYOUT.metrics_dir(*STUDENT)),
    log:
        LAYOUT.logs.evaluate(*STUDENT),
    benchmark:
        LAYOUT.timings.evaluate(*STUDENT)
    conda:
        "../../envs/analysis.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        disk_mb=100,
    params:
        tests=evaluate_tests,
        rescreen=lambda wc: rebuild_command(LAYOUT.validation_report(wc.language)),
        search_again=lambda wc: rebuild_command(
            LAYOUT.train_log(wc.language, wc.method, wc.seed, wc.size)
        ),
    script:
        "../scripts/evaluate.py"


rule evaluate_zero_shot:
    input:
        **search_roles(LAYOUT.zero_shot_files("{language}", "{benchmark}")),
        **LAYOUT.benchmark_files("{benchmark}"),  # queries, qrels
        manifest=LAYOUT.benchmark_manifest("{benchmark}"),
    output:
        **search_roles(LAYOUT.zero_shot_files("{language}", "{benchmark}"), False),
    log:
        LAYOUT.logs.evaluate_zero_shot("{language}", "{benchmark}"),
    benchmark:
        LAYOUT.timings.evaluate_zero_shot("{language}", "{benchmark}")
    conda:
        "../../envs/analysis.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        disk_mb=100,
    params:
        tests=lambda wc: evaluation_tests(
            wc.language, LAYOUT.zero_shot_dirs(wc.language), [wc.benchmark]
        ),
        rescreen=lambda wc: rebuild_command(LAYOUT.validation_report(wc.language)),
        search_again=lambda wc: rebuild_command(
            LAYOUT.zero_shot_files(wc.language, wc.benchmark)["run"]
        ),
    script:
        "../scripts/evaluate.py"

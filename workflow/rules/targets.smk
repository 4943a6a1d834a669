# One target per language of the config: `snakemake all_<code>` runs everything of that language up to
# its evaluated runs (not the tables, which span languages). See docs/cluster.md.
_POINTS = all_sweep_points()
for _code in config["languages"]:

    rule:
        name:
            f"all_{_code}"
        input:
            sorted(
                {
                    path
                    for point in _POINTS
                    if point["language"] == _code
                    for path in point["outputs"]
                }
            ),

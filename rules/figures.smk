# Figures of the landscape (PNG + PDF, with report captions).


rule figure_landscape:
    input:
        examples=rules.depth_table.output.table,
        cells=rules.cells.output.cells,
        info=rules.cells.output.info,
        i0=rules.warmup_set.output[0],
    output:
        png=report(
            results("figures/landscape.png"),
            caption=report_caption("landscape.rst"),
            category="Landscape",
            labels={"figure": "landscape map"},
        ),
        pdf=results("figures/landscape.pdf"),
    params:
        dpi=config["figures"]["dpi"],
    log:
        logs("figure_landscape.log"),
    conda:
        "../envs/analysis.yaml"
    script:
        "../scripts/figure_landscape.py"


rule figure_depth_by_domain:
    input:
        examples=rules.depth_table.output.table,
    output:
        png=report(
            results("figures/depth_by_domain.png"),
            caption=report_caption("depth_by_domain.rst"),
            category="Landscape",
            labels={"figure": "depth by domain"},
        ),
        pdf=results("figures/depth_by_domain.pdf"),
    params:
        dpi=config["figures"]["dpi"],
    log:
        logs("figure_depth_by_domain.log"),
    conda:
        "../envs/analysis.yaml"
    script:
        "../scripts/figure_depth_by_domain.py"

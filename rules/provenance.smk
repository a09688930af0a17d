# Provenance of every figure and table as report tables: for each product its
# rule, script, params and chain of steps (read from its .provenance.json
# sidecar), the software versions and the resolved config.


rule provenance_tables:
    input:
        products=report_products(),
    output:
        products=report(
            results("provenance/products.csv"),
            caption=report_caption("provenance_products.rst"),
            category="Provenance",
            labels={"table": "figures and tables"},
        ),
        steps=report(
            results("provenance/steps.csv"),
            caption=report_caption("provenance_steps.rst"),
            category="Provenance",
            labels={"table": "steps"},
        ),
        software=report(
            results("provenance/software.csv"),
            caption=report_caption("provenance_software.rst"),
            category="Provenance",
            labels={"table": "software"},
        ),
        config=report(
            results("provenance/config.csv"),
            caption=report_caption("provenance_config.rst"),
            category="Provenance",
            labels={"table": "config"},
        ),
    log:
        logs("provenance_tables.log"),
    conda:
        "../envs/analysis.yaml"
    script:
        "../scripts/provenance_tables.py"

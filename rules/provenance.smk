# Provenance of every figure and table as report tables: for each product its
# rule, script, params and chain of steps (read from its .provenance.json
# sidecar), the software versions and the resolved config.


rule provenance_tables:
    input:
        products=report_products(),
    output:
        products=report(
            f"{RESULTS}/provenance/products.csv",
            caption=f"{REPORT}/provenance_products.rst",
            category="Provenance",
            labels={"table": "figures and tables"},
        ),
        steps=report(
            f"{RESULTS}/provenance/steps.csv",
            caption=f"{REPORT}/provenance_steps.rst",
            category="Provenance",
            labels={"table": "steps"},
        ),
        software=report(
            f"{RESULTS}/provenance/software.csv",
            caption=f"{REPORT}/provenance_software.rst",
            category="Provenance",
            labels={"table": "software"},
        ),
        config=report(
            f"{RESULTS}/provenance/config.csv",
            caption=f"{REPORT}/provenance_config.rst",
            category="Provenance",
            labels={"table": "config"},
        ),
    log:
        f"{LOGS}/provenance_tables.log",
    conda:
        "../envs/analysis.yaml"
    script:
        "../scripts/provenance_tables.py"

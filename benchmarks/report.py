"""The benchmark's report: a Markdown table and the full JSON in benchmarks/results/, and the table in README.md.

Every target of issue 6 is checked against what was measured; a missed one says by how much.
"""

from __future__ import annotations

import json
from pathlib import Path

README_START = "<!-- benchmark:start -->"
README_END = "<!-- benchmark:end -->"

PAGE_TARGETS = {  # scenario -> p95 target in ms (server side, concurrency 1)
    "list page": 25,
    "search page": 40,
    "search page by downloads": 40,
    "filtered list page": 25,
    "model card": 30,
    "model card, 20+ versions": 30,
    "API list (limit 100)": 20,
    "API search": 20,
    "API search by downloads": 20,
    "API detail": 20,
    "Civitai API search": 20,
    "hash lookup": 5,
}


def _ms(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f}"


def _verdict(value: float | None, target: float, *, higher_is_better: bool = False) -> str:
    if value is None:
        return "not measured"
    met = value >= target if higher_is_better else value <= target
    if met:
        return "met"
    return f"missed by {abs(value - target) / target:.0%}"


def _cpu_scores(machine: dict) -> str:
    start, end = machine.get("cpu_score", "–"), machine.get("cpu_score_end")
    return f"{start} at the start and {end} at the end" if end is not None else str(start)


def _connection(machine: dict) -> str:
    kind = machine.get("postgresql_connection")
    if not kind:
        return ""
    how = f"by its {kind}" if kind == "Unix socket" else f"over {kind}"
    congestion = machine.get("tcp_congestion_control")
    return f" (reached {how}" + (
        f"; the kernel's TCP congestion control: {congestion})" if congestion else ")"
    )


def markdown(report: dict) -> str:
    m = report["machine"]
    sizes = [str(s) for s in report["sizes"]]
    out = [
        f"Measured {m['date']} on {m['cores']} cores ({m['cpu']}; CPU score {_cpu_scores(m)}, millions of simple "
        "Python operations per second on one core: it says how fast this machine was during the run), "
        f"{m['memory_gb']} GB, Python {m['python']}, Django "
        f"{m['django']}, PostgreSQL {m['postgresql']}{_connection(m)}; gunicorn (config/gunicorn.conf.py: 4 workers of 2 "
        f"threads, keep-alive; production settings) on loopback; {report['requests']} requests per scenario at "
        "concurrency 1. Server-side times come from "
        "gunicorn's access log; req/s at concurrency 8 is what the load generator saw. Command: "
        f"`{report.get('command', 'make bench')}`.",
        "",
    ]
    if report.get("smoke"):
        out += [
            "**Smoke run** (N=500 and 1,000, a few requests): it checks the benchmark works; its figures mean little.",
            "",
        ]

    ingest = report.get("ingest")
    if ingest:
        out += ["### Ingest (the corpus's Civitai models into PostgreSQL)", "",
                "| how | models | seconds | models/s | target | |", "|---|---:|---:|---:|---:|---|"]  # fmt: skip
        targets = {"in-process": 500, "in-process, unchanged": 2000}
        for label in ("in-process", "in-process, unchanged", "Celery worker", "Celery worker, unchanged"):
            row = ingest.get(label)
            if not row:
                continue
            done = row["created"] + row["updated"] + row["unchanged"]
            target = targets.get(label)
            verdict = _verdict(row["models_per_second"], target, higher_is_better=True) if target else ""
            out.append(
                f"| {label} | {done} ({row['failed']} failed) | {row['seconds']} | {row['models_per_second']:.0f} "
                f"| {'≥ ' + str(target) if target else ''} | {verdict} |"
            )
        thumbs = ingest.get("thumbnails")
        if thumbs:
            out.append(
                f"| thumbnails (1024×1536 JPEG → WebP + blurhash) | {thumbs['stored']} images | {thumbs['seconds']} "
                f"| {thumbs['per_second']} /s | | |"
            )
        out.append("")

    measured = report["sizes_measured"]
    out += ["### Pages and API", ""]
    header = "| scenario | target p95 |"
    rule = "|---|---:|"
    for size in sizes:
        header += f" N={int(size):,}: p50 / p95 / p99 ms (c=1) | req/s (c=8) | queries |"
        rule += "---:|---:|---:|"
    growth_asked = report.get("growth", {}).get("scenarios", {})
    if len(sizes) > 1:
        header += " growth p95 (asked in turn) | verdict |"
        rule += "---:|---|"
    else:
        header += " verdict |"
        rule += "---|"
    out += [header, rule]
    first = measured[sizes[0]]["scenarios"]
    for name in first:
        target = PAGE_TARGETS.get(name)
        line = f"| {name} | {str(target) + ' ms' if target else ''} |"
        for size in sizes:
            row = measured[size]["scenarios"][name]
            server = row["c1"]["server"]
            line += (
                f" {_ms(server['p50_ms'])} / {_ms(server['p95_ms'])} / {_ms(server['p99_ms'])} | "
                f"{row['c8']['client']['rps']:.0f} | {row['queries']} |"
            )
        last = measured[sizes[-1]]["scenarios"][name]["c1"]["server"]["p95_ms"]
        verdicts = []
        if target:
            verdicts.append(
                _verdict(max(measured[s]["scenarios"][name]["c1"]["server"]["p95_ms"] for s in sizes), target)
            )
        if len(sizes) > 1:
            base = first[name]["c1"]["server"]["p95_ms"]
            growth = last / base if base else None
            turn = growth_asked.get(name)  # both sizes asked in turn (run.growth_figures): the drift cancels
            if turn:
                growth = turn["p95_ratio"]
            line += f" ×{growth:.2f}" if growth else " –"
            if turn and growth:
                line += f" ({_ms(turn[str(sizes[0])]['p95_ms'])} → {_ms(turn[str(sizes[-1])]['p95_ms'])} ms)"
            line += " |"
            if growth and growth > 1.5:
                verdicts.append(f"growth above 1.5× by {growth / 1.5 - 1:.0%}")
            queries = {measured[s]["scenarios"][name]["queries"] for s in sizes}
            if len(queries) > 1:
                verdicts.append("query count grows")
        line += f" {'; '.join(verdicts) or ''} |"
        out.append(line)
    out.append("")
    if growth_asked:
        small, large = (f"{int(size):,}" for size in report["growth"]["sizes"])
        out += [
            f"Growth: each scenario asked again of both sizes in turn, a server on a copy of the N={small} catalog "
            f"beside one on the N={large} catalog, one client asking them request by request, each its own "
            "size's paths: the ratio of their server-side p95 (those p95s in brackets), which a drift of the "
            "machine's speed moves alike. The columns of each N were measured minutes apart.",
            "",
        ]

    worst = [
        (name, size, row["c1"]["server"]["worst"])
        for size in sizes
        for name, row in measured[size]["scenarios"].items()
        if "worst" in row["c1"]["server"]
    ]
    if worst:
        out += [
            "#### The worst of the thirty search words",
            "",
            "Searches ask thirty words drawn from the catalog's own names and tags by frequency (10 most "
            "frequent, 10 middling, 10 rare; `search_words` in benchmarks/run.py): the p95 above is over all "
            "thirty, and the worst word's own p95 is here.",
            "",
            "| scenario | N | worst word's p95 ms (c=1) | its path |",
            "|---|---:|---:|---|",
            *(f"| {name} | {int(size):,} | {_ms(w['p95_ms'])} | `{w['path']}` |" for name, size, w in worst),
            "",
        ]

    checks = []
    for size in sizes:
        rows = measured[size]["scenarios"]
        deep = rows["deep page (~500 pages in)"]["c1"]["server"]["p95_ms"]
        top = rows["list page"]["c1"]["server"]["p95_ms"]
        checks.append(f"- N={int(size):,}: deep page p95 is ×{deep / top:.2f} the first page's (target ≤ ×1.3: "
                      f"{_verdict(deep / top, 1.3)}).")  # fmt: skip
        cards = rows["model card"]["c8"]["client"]["rps"]
        checks.append(f"- N={int(size):,}: {cards:.0f} model cards per second at concurrency 8 (target ≥ 200: "
                      f"{_verdict(cards, 200, higher_is_better=True)}).")  # fmt: skip
        peak = measured[size]["worker_peak_mb"]
        checks.append(
            f"- N={int(size):,}: web worker peak memory {peak} MB (target ≤ 200: {_verdict(peak, 200)})."
        )
        if measured[size].get("cpu_score"):
            before, after = measured[size]["cpu_score"]
            checks.append(
                f"- N={int(size):,}: CPU score {before} just before these scenarios and {after} just after "
                "(the machine's speed while they ran)."
            )
        checks.append(
            f"- N={int(size):,}: built {measured[size]['loaded_models']:,} models in {measured[size]['load_seconds']} s "
            f"({measured[size]['load_models_per_second']:.0f}/s, through the batched writer's COPY), then "
            f"VACUUM ANALYZE and CHECKPOINT in {measured[size]['analyze_seconds']} s."
        )
    out += [*checks, ""]

    for size, peer in (report.get("peer") or {}).items():
        out += [
            f"### Beside Datasette (N={int(size):,}, the same models in SQLite with FTS5, "
            "`--setting suggest_facets off`)",
            "",
            f"Search words: the thirty of the table above ({', '.join(f'`{w}`' for w in peer['search_words'])}), "
            "each asked in turn. Ratio: the catalog's p95 over Datasette's (below 1: the catalog is faster); "
            "every answer computed.",
            "",
            "| question | Datasette p95 ms (c=1) | catalog p95 ms | ratio | p50 ratio | worst word p95 ms: "
            "Datasette / catalog | req/s (c=8): Datasette / catalog | |",
            "|---|---:|---:|---:|---:|---:|---:|---|",
        ]
        for name, row in peer["pairs"].items():
            ratio = row["p95_ratio_c1"]
            theirs, ours = row["datasette_c1"], row["catalog_c1"]
            worst = (
                f"{_ms(theirs['worst']['p95_ms'])} / {_ms(ours['worst']['p95_ms'])}"
                if "worst" in ours
                else "–"
            )
            out.append(
                f"| {name}: `{row['datasette_paths'][0]}` vs `{row['catalog_paths'][0]}` | "
                f"{_ms(theirs['p95_ms'])} | {_ms(ours['p95_ms'])} | ×{ratio:.2f} | ×{row['p50_ratio_c1']:.2f} | "
                f"{worst} | {row['datasette_c8']['rps']:.0f} / {row['catalog_c8']['rps']:.0f} | "
                f"{'as fast or faster' if ratio <= 1 else f'slower by {ratio - 1:.0%}'} |"
            )
        out += [
            "",
            "Both are timed by the same load generator, client side (Datasette has no access log here). At "
            "concurrency 1 one client asks Datasette and the catalog in turn, request by request, so that both "
            "are timed in the same moments of the machine. The paths shown are the first word's.",
            "",
        ]

    for connection in (report.get("connection") or {}).values():
        out += [
            f"### PostgreSQL by its Unix socket and over TCP (N={int(connection['size']):,})",
            "",
            "The same catalog served twice, one server connected to PostgreSQL by its Unix socket (as every table "
            "above) and one over loopback TCP, asked in turn request by request; server-side ms. Ratio: TCP's "
            "over the socket's.",
            "",
            "| scenario | socket p50 / p95 | TCP p50 / p95 | p95 ratio | p50 ratio |",
            "|---|---:|---:|---:|---:|",
        ]
        for name, row in connection["scenarios"].items():
            sock, tcp = row["socket"], row["tcp"]
            out.append(
                f"| {name} | {_ms(sock['p50_ms'])} / {_ms(sock['p95_ms'])} | {_ms(tcp['p50_ms'])} / "
                f"{_ms(tcp['p95_ms'])} | ×{row['p95_ratio']:.2f} | ×{row['p50_ratio']:.2f} |"
            )
        out.append("")

    load = report.get("load_test")
    if load:
        client, crawl = load["client"], load["crawl"]
        out += [
            "### Load test",
            "",
            f"{load['clients']} clients for {load['seconds']:.0f} s mixing list, search, card and API requests "
            f"while a Celery worker crawled a loopback stand-in for "
            f"Civitai: {client['count']} requests, "
            f"{client['rps']:.0f} req/s, **{client['errors']} errors**, p50 {_ms(client['p50_ms'])} ms, "
            f"p99 {_ms(client['p99_ms'])} ms client side (server side p99 {_ms(load['server']['p99_ms'])} ms). "
            f"The crawl {crawl['status']}: {crawl['created']} created, {crawl['failed']} failed.",
            "",
        ]
    return "\n".join(out)


# The sections of the report the top-level README shows (the rest are in benchmarks/results/).
README_SECTIONS = ("### Ingest", "### Pages and API", "### Load test")


def readme_summary(text: str) -> str:
    """The report's opening paragraph and the sections a user of the catalog reads (README_SECTIONS)."""
    intro, *sections = text.split("\n### ")
    kept = [
        f"### {section}".split("\n#### ", 1)[0].rstrip() + "\n"
        for section in sections
        if f"### {section}".startswith(README_SECTIONS)
    ]
    return "\n".join([intro.rstrip() + "\n", *kept]).rstrip() + "\n"


def write_report(report: dict, folder: Path, *, readme: Path | None) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    sizes = "-".join(str(s) for s in report["sizes"])
    stem = f"{report['machine']['date']}-N{sizes}{'-smoke' if report.get('smoke') else ''}"
    text = markdown(report)
    md = folder / f"{stem}.md"
    md.write_text(f"# Benchmark, N={sizes}\n\n{text}\n")
    js = folder / f"{stem}.json"
    js.write_text(json.dumps(report, indent=1, default=str) + "\n")
    written = [md, js]
    if readme and readme.exists():
        current = readme.read_text()
        if README_START in current and README_END in current:
            head, rest = current.split(README_START, 1)
            _, tail = rest.split(README_END, 1)
            readme.write_text(f"{head}{README_START}\n{readme_summary(text)}\nEvery figure: `benchmarks/results/{md.name}`; "
                              "what the runs said: `benchmarks/README.md`.\n"
                              f"{README_END}{tail}")  # fmt: skip
            written.append(readme)
    return written

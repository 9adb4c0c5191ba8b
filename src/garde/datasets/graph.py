"""The reference graph of a data map: from identities, through references, across databases.

As text: one tree per identity kind (the tables declaring it, marked when
authoritative, then the tables that reference them, recursively), the way
discovery walks. As a
picture: Graphviz DOT, one cluster per database, identity kinds as shared
nodes between databases; rendered to SVG or PNG by Graphviz's ``dot``.
"""

from __future__ import annotations

import shutil
import subprocess

from garde.datasets.model import DataMap, TableMap, TableRef
from garde.problems import GardeError

FORMATS = ("text", "dot", "svg", "png")


def graph_text(datamap: DataMap) -> str:
    """The tree discovery walks, one root per identity kind."""
    lines: list[str] = []
    shown: set[TableRef] = set()
    expanded: set[TableRef] = set()
    for kind in datamap.identity_kinds():
        lines.append(f"{kind}")
        holders = datamap.with_identity(kind)
        for i, (table, column) in enumerate(holders):
            last = i == len(holders) - 1
            again = (
                "  (references shown above)" if table.ref in expanded and datamap.referencing(table) else ""
            )
            checked = "  [authoritative: extends the search]" if kind in table.authoritative else ""
            branch = "└── " if last else "├── "
            lines.append(f"{branch}{table.ref}.{column}{_describe(table)}{checked}{again}")
            if table.ref not in expanded:
                _children(datamap, table, "    " if last else "│   ", lines, {table.ref}, shown)
            expanded.add(table.ref)
            shown.add(table.ref)
        lines.append("")
    unreached = [t for t in datamap if t.personal and t.ref not in shown]
    if unreached:
        lines.append("not reachable from an identity")
        lines.extend(f"    {t.ref}{_describe(t)}" for t in unreached)
    return "\n".join(lines).rstrip() + "\n"


def _describe(table: TableMap) -> str:
    parts = [table.subject] if table.subject else []
    if not table.identifiable:
        parts.append("not identifiable")
    return f"  ({', '.join(parts)})" if parts else ""


def _children(
    datamap: DataMap,
    table: TableMap,
    prefix: str,
    lines: list[str],
    path: set[TableRef],
    shown: set[TableRef],
) -> None:
    children = [(c, r) for c, r in datamap.referencing(table) if c.subject is not None and r.cascades]
    for i, (child, reference) in enumerate(children):
        last = i == len(children) - 1
        again = child.ref in path
        lines.append(
            f"{prefix}{'└── ' if last else '├── '}{child.ref}.{reference.column} → "
            f"{table.name}.{reference.target_column}{_describe(child)}"
            f"{'  (claim)' if reference.claim else ''}{'  (cycle)' if again else ''}"
        )
        shown.add(child.ref)
        if not again:
            _children(datamap, child, prefix + ("    " if last else "│   "), lines, path | {child.ref}, shown)


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _node_label(table: TableMap) -> str:
    """An HTML-like label: table name and subject, then identity and reference columns."""
    rows = [f'<tr><td bgcolor="#dbe7f3"><b>{_html(table.name)}</b></td></tr>']
    if table.subject:
        rows.append(
            f'<tr><td><font point-size="10" color="#555555">{_html(table.subject)}'
            f"{' — not identifiable' if not table.identifiable else ''}</font></td></tr>"
        )
    for kind, column in table.identities.items():
        rows.append(f'<tr><td align="left">◆ {_html(column)} <i>({_html(kind)})</i></td></tr>')
    for column in table.references:
        rows.append(f'<tr><td align="left">→ {_html(column)}</td></tr>')
    if table.columns:
        rows.append(
            f'<tr><td align="left"><font point-size="10">{len(table.columns)} annotated columns'
            f"</font></td></tr>"
        )
    return '<<table border="0" cellborder="1" cellspacing="0" cellpadding="3">' + "".join(rows) + "</table>>"


def graph_dot(datamap: DataMap) -> str:
    """Graphviz DOT: tables in one cluster per database, references and shared identities as edges."""
    out = [
        "digraph datamap {",
        "  rankdir=LR;",
        '  graph [fontname="Helvetica", nodesep=0.25, ranksep=0.9];',
        '  node [shape=plain, fontname="Helvetica", fontsize=11];',
        '  edge [fontname="Helvetica", fontsize=9, color="#555555"];',
    ]
    for kind in datamap.identity_kinds():
        out.append(
            f'  {_quote("identity:" + kind)} [shape=ellipse, style=filled, fillcolor="#fde9b5", '
            f"label={_quote(kind)}];"
        )
    for name, dataset in datamap.datasets.items():
        out.append(f"  subgraph {_quote('cluster_' + name)} {{")
        out.append(f'    label={_quote("database " + name)}; style=rounded; color="#8aa4c0";')
        for table in dataset.tables.values():
            style = "" if table.personal else ', color="#999999"'
            out.append(f"    {_quote(str(table.ref))} [label={_node_label(table)}{style}];")
        out.append("  }")
    for table in datamap:
        for kind, column in table.identities.items():
            # Solid: an authoritative column, whose values lead to other tables; dashed: matched only.
            style = "solid" if kind in table.authoritative else "dashed"
            out.append(
                f"  {_quote('identity:' + kind)} -> {_quote(str(table.ref))} "
                f'[style={style}, color="#c08a00", label={_quote(column)}];'
            )
        for column, reference in table.references.items():
            target = TableRef(table.database, reference.target)
            followed = (table.subject is not None and datamap.table(target).subject is not None
                        and not reference.claim and reference.cascades)
            style = "" if followed else ', style=dotted, color="#aaaaaa"'
            label = column if reference.cascades else f"{column} (nullify)"
            out.append(
                f"  {_quote(str(table.ref))} -> {_quote(str(target))} [label={_quote(label)}{style}];"
            )
    out.append("}")
    return "\n".join(out) + "\n"


def render(dot: str, fmt: str) -> bytes:
    """Render DOT to ``svg`` or ``png`` with Graphviz's ``dot`` command."""
    if fmt not in ("svg", "png"):
        raise GardeError(f"cannot render {fmt!r}; expected svg or png")
    program = shutil.which("dot")
    if program is None:
        raise GardeError(
            "Graphviz is not installed (`dot` not found): install it (Debian: apt-get install "
            "graphviz) or use --format dot and render elsewhere"
        )
    result = subprocess.run([program, f"-T{fmt}"], input=dot.encode(), capture_output=True, check=False)
    if result.returncode != 0:
        raise GardeError(f"Graphviz failed: {result.stderr.decode(errors='replace').strip()}")
    return result.stdout

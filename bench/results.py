"""RESULT lines of the benches and peers (bench/peers/peerlib.py prints them):
    RESULT name=<id> value=<number> unit=<unit> [min=.. max=.. n=..]
read into rows, and a row as a table cell. Used by the summarize*.py scripts."""
import re
import statistics


def read_results(log):
    """name -> {"unit", "values", "min", "max"}: one entry per line of that name."""
    rows = {}
    for line in open(log):
        m = re.match(r"RESULT name=(\S+) value=(\S+) unit=(\S+)(?: min=(\S+) max=(\S+))?", line)
        if m:
            name, value, unit, lo, hi = m.groups()
            r = rows.setdefault(name, {"unit": unit, "values": [], "min": [], "max": []})
            r["values"].append(float(value))
            r["min"].append(float(lo or value))
            r["max"].append(float(hi or value))
    return rows


def cell(rows, name):
    """(median of the values or None, "median (min-max) unit" or "-")."""
    r = rows.get(name)
    if not r:
        return None, "-"
    v = statistics.median(r["values"])
    return v, f"{v:.4g} ({min(r['min']):.4g}-{max(r['max']):.4g}) {r['unit']}"

"""Results after the session: matplotlib charts (object API, Agg, worker threads only), the PDF
report, and CSV/JSON exports, all computed from the journal."""

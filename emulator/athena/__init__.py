"""Athena-style SQL over the lake: StartQueryExecution and friends, run by DuckDB over the tables of the Glue
Data Catalog (reached through :class:`emulator.athena.service.CatalogReader`, which the endpoint wires)."""

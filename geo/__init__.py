"""Geography: coordinate systems (coords), the lattice (lattice), the grid index (index,
raster, records), the address gazetteer (gazetteer), layer files and their checks (layers),
PostGIS tables and queries (models, service), the `yiwang geo`/`locate` commands (cli) and
the shipped reference district (reference)."""

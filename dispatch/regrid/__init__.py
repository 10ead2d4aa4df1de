"""Grid redraws reach open cases: when a new layer version takes effect, every open case whose
point now falls in another grid is re-homed there (README: "Redrawn grids")."""

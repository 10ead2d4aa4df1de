"""Surge mode: an official warning in force changes the rules exactly in the grids it covers.

`policy` reads config/surge.toml; `areas` says which grids a warning's area covers; `overlay`
is what the intake applies to a new case in a surge grid; `flows` keeps the surge state in
PostgreSQL and raises the open cases a surge covers.
"""

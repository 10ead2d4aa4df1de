"""The pages (command-center board, KPI page, grid worker's phone page, login): JavaScript
sources bundled from npm packages at build time (`bundle.py`), served by the API (`pages.py`)."""

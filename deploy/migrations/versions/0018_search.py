"""The reporters' phone index: `reports.reporter_phone_hash` (a keyed HMAC of the normalised
phone, dispatch/search/phones.py) and its index; never a clear-text phone column.

Existing reports are hashed here when the caller passes the key (`yiwang up` does, from
YIWANG_SEARCH_KEY); otherwise they stay unhashed until `yiwang search reindex`.

Revision ID: 0018_search
Revises: 0010_notices
Create Date: 2026-12-01 13:00:00
"""

import logging

import sqlalchemy as sa
from alembic import op

from dispatch.search.reindex import rehash_phones

revision = "0018_search"
down_revision = "0010_notices"
branch_labels = None
depends_on = None

log = logging.getLogger("alembic.runtime.migration")


def upgrade() -> None:
    op.add_column("reports", sa.Column("reporter_phone_hash", sa.String(length=64), nullable=True))
    op.create_index("ix_reports_phone_hash", "reports", ["reporter_phone_hash"])
    config = op.get_context().config
    key = config.attributes.get("search_key") if config is not None else None
    if not key:
        log.info("0018_search: no search key given; run `yiwang search reindex` to hash existing phones")
        return
    changed = rehash_phones(op.get_bind(), key)
    log.info("0018_search: %d reporters' phones hashed", changed)


def downgrade() -> None:
    op.drop_index("ix_reports_phone_hash", table_name="reports")
    op.drop_column("reports", "reporter_phone_hash")

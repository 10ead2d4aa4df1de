"""How every Yiwang process logs, and why some libraries are kept quiet.

The Kafka clients (kafka-python, aiokafka) log whole record contents at DEBUG — for reports
and dead letters that means reporters' names and phone numbers. Those loggers stay at WARNING
whatever level is asked for, and a filter masks mainland mobile numbers in every record as a
second line of defence: personal data never reaches a log in clear.
"""

from __future__ import annotations

import logging
import re

PAYLOAD_LOGGERS = ("kafka", "aiokafka")
"""Libraries that log record payloads at DEBUG/INFO."""
QUIET_LOGGERS = ("alembic",)
MOBILE = re.compile(r"(?<!\d)(1[3-9]\d)\d{4}(\d{4})(?!\d)")


class MaskMobileNumbers(logging.Filter):
    """Rewrites 11-digit mainland mobile numbers as 139****5678 in the final message."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = MOBILE.sub(r"\1****\2", message)
        if masked != message:
            record.msg, record.args = masked, None
        return True


def configure_logging(level: str) -> None:
    logging.basicConfig(level=level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for name in (*PAYLOAD_LOGGERS, *QUIET_LOGGERS):
        logging.getLogger(name).setLevel(logging.WARNING)
    mask = MaskMobileNumbers()
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, MaskMobileNumbers) for f in handler.filters):
            handler.addFilter(mask)

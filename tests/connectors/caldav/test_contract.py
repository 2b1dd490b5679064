"""The CalDAV calendar passes the calendar source contract against a real Radicale server,
both with sync-collection (RFC 6578) and with ctag and etag comparison."""

from pathlib import Path

import pytest

from tests.connectors.caldav.helpers import CalDavDriver
from tests.connectors.contract.calendar_contract import NOW, CalendarContract, CalendarDriver
from tests.servers.radicale import RadicaleServer


class TestCalDavCalendar(CalendarContract):
    @pytest.fixture(params=["sync-collection", "ctag"])
    def driver(
        self, request: pytest.FixtureRequest, radicale_server: RadicaleServer, tmp_path: Path
    ) -> CalendarDriver:
        return CalDavDriver(
            radicale_server,
            tmp_path / "main.caldav.json",
            clock=lambda: NOW,
            practitioner="sam@riverscoaching.co.uk",
            sync_collection=request.param == "sync-collection",
        )

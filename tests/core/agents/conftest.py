from __future__ import annotations

from pathlib import Path

import pytest

from core.agents import AgentDesk
from core.delivery.attachments import AttachmentStore
from core.services import Services


@pytest.fixture
def agents(service: Services, tmp_path: Path) -> AgentDesk:
    """The agents' interpreter over the test's services, keeping files under the test's folder."""
    return AgentDesk(service, AttachmentStore(tmp_path / "files"))

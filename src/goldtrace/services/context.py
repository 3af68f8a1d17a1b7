"""What every service needs besides the session: settings and the custodial key seal."""

from __future__ import annotations

from dataclasses import dataclass, field

from goldtrace.config import Settings
from goldtrace.ledger.keys import KeySeal


@dataclass
class Context:
    """Built once per process (app factory, CLI invocation) and passed to services explicitly."""

    settings: Settings
    seal: KeySeal = field(init=False)
    # The key id each organization's custodial key had when this process last signed for it: a
    # hint that spares the append path a query, always checked under the log head's lock.
    signing_kids: dict[str, str] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        self.seal = KeySeal(self.settings.secret_key)

    @property
    def origin(self) -> str:
        """The log origin line of checkpoints and leaves."""
        return self.settings.log_origin
